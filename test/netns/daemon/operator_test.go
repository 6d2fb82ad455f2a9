package daemon

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests in this file replay, through real daemons, what an operator new
// to havsd ran into (issue "no quiet wrong states").

// opMetrics reads a director's /metrics from inside its namespace as
// series → value.
func (p *pair) opMetrics(node string) (map[string]string, error) {
	series := map[string]string{}
	err := p.topo.Do(node, func() error {
		// Dial here: http.Client would dial on another thread, outside the namespace.
		c, err := net.DialTimeout("tcp", "127.0.0.1:9473", 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprint(c, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		for line := range strings.Lines(string(body)) {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "havsd_") {
				i := strings.LastIndexByte(line, ' ') // label values hold spaces
				series[line[:i]] = line[i+1:]
			}
		}
		return err
	})
	return series, err
}

// opJSON returns `havsd status --json` of a node as text and decoded.
func (p *pair) opJSON(node string) (string, map[string]any) {
	p.t.Helper()
	out, err := p.havsdCmd(node, "status", "-s", p.socket(node), "--json")
	if err != nil {
		p.t.Fatalf("havsd status --json: %v\n%s", err, out)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		p.t.Fatalf("decoding status: %v\n%s", err, out)
	}
	return out, doc
}

// opLog returns a node's log so far.
func (p *pair) opLog(node string) string {
	b, _ := os.ReadFile(filepath.Join(p.dir, node+".log"))
	return string(b)
}

// TestFreshDaemonStatusAndMetricsAgree: before any reload status --json
// says last_reload null and /metrics has no reload outcome; lists are [],
// never null; no timestamp is 0001-01-01. After a reload both say it.
func TestFreshDaemonStatusAndMetricsAgree(t *testing.T) {
	p := newPair(t, "100ms")
	text, doc := p.opJSON("d1")
	if v, ok := doc["last_reload"]; !ok || v != nil {
		t.Errorf("fresh daemon: last_reload = %v, want null", v)
	}
	rest := strings.Replace(text, `"last_reload": null`, "", 1)
	for _, bad := range []string{"null", "0001-01-01"} {
		if strings.Contains(rest, bad) {
			t.Errorf("fresh daemon's status --json holds %s:\n%s", bad, text)
		}
	}
	m, err := p.opMetrics("d1")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m["havsd_last_reload_success"]; ok || m["havsd_reloads_total"] != "0" {
		t.Errorf("fresh daemon: havsd_last_reload_success = %q (want absent), havsd_reloads_total = %q (want 0)", v, m["havsd_reloads_total"])
	}
	if out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1")); err != nil {
		t.Fatalf("havsd reload: %v\n%s", err, out)
	}
	_, doc = p.opJSON("d1")
	lr, _ := doc["last_reload"].(map[string]any)
	m, err = p.opMetrics("d1")
	if err != nil {
		t.Fatal(err)
	}
	if lr == nil || lr["ok"] != true || lr["count"] != 1.0 || m["havsd_last_reload_success"] != "1" || m["havsd_reloads_total"] != "1" {
		t.Errorf("after a reload: last_reload %v; metrics success %q, total %q", lr, m["havsd_last_reload_success"], m["havsd_reloads_total"])
	}
}

// levelOf returns the level of the first log record matching re, or "".
func levelOf(log string, re *regexp.Regexp) string {
	for line := range strings.Lines(log) {
		if re.MatchString(line) {
			if m := regexp.MustCompile(`level=(\w+)`).FindStringSubmatch(line); m != nil {
				return m[1]
			}
		}
	}
	return ""
}

// TestLogLevelsAsOperatorsRead: a peer's first advert is not a warning; a
// real server going down is, its coming back is information.
func TestLogLevelsAsOperatorsRead(t *testing.T) {
	p := newPair(t, "100ms")
	if lv := levelOf(p.opLog("d1"), regexp.MustCompile(`not seen before`)); lv == "WARN" || lv == "ERROR" {
		t.Errorf("d1 logs the peer's first advert at %s", lv)
	}
	flag := filepath.Join(t.TempDir(), "up")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	reals := fmt.Sprintf(`real_server "10.99.0.1:80" {
    check "script" {
      command  = ["/bin/test", "-e", %q]
      interval = "100ms"
    }
  }`, flag)
	cfg := p.configText("d1", 150, "", reals)
	p.writeConfig("d1", cfg)
	if out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1")); err != nil {
		t.Fatalf("havsd reload: %v\n%s", err, out)
	}
	health := func() string {
		_, doc := p.opJSON("d1")
		svcs, _ := doc["services"].([]any)
		if len(svcs) == 0 {
			return ""
		}
		reals, _ := svcs[0].(map[string]any)["reals"].([]any)
		if len(reals) == 0 {
			return ""
		}
		h, _ := reals[0].(map[string]any)["health"].(string)
		return h
	}
	eventually(t, 10*time.Second, "real server up", func() bool { return health() == "up" })
	os.Remove(flag)
	eventually(t, 10*time.Second, "real server down", func() bool { return health() == "down" })
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "real server up again", func() bool { return health() == "up" })
	log := p.opLog("d1")
	down := regexp.MustCompile(`backend state changed.*state=down`)
	up := regexp.MustCompile(`backend state changed.*state=up`)
	if lv := levelOf(log, down); lv != "WARN" {
		t.Errorf("a real server going down is logged at %q, want WARN:\n%s", lv, log)
	}
	if lv := levelOf(log, up); lv != "INFO" {
		t.Errorf("a real server coming up is logged at %q, want INFO:\n%s", lv, log)
	}
}
