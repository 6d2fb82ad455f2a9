package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
)

// The tests in this file replay, through real daemons, what an operator new
// to havsd ran into (issue "no quiet wrong states").

// opMetrics reads a director's /metrics from inside its namespace as
// series → value.
func (p *pair) opMetrics(node string) (map[string]string, error) {
	body, err := p.metricsBody(node)
	if err != nil {
		return nil, err
	}
	series := map[string]string{}
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "havsd_") {
			i := strings.LastIndexByte(line, ' ') // label values hold spaces
			series[line[:i]] = line[i+1:]
		}
	}
	return series, nil
}

// opJSON returns `havsd status --json` of a node as text and decoded.
func (p *pair) opJSON(node string) (string, map[string]any) {
	p.t.Helper()
	out, err := p.statusJSON(node)
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

// TestReloadSaysWhatItReplaces: a reload that changes the VRID says the
// instance is replaced and its VIPs go until the re-election, before (in
// the reload's answer and a warning) and after (when the new instance is
// elected); an updated instance and a changed real server are named with
// the settings that changed; a rejected file is one log record per error.
func TestReloadSaysWhatItReplaces(t *testing.T) {
	p := newPair(t, "100ms")
	reload := func(cfg string) string {
		t.Helper()
		p.writeConfig("d1", cfg)
		out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1"))
		if err != nil {
			t.Fatalf("havsd reload: %v\n%s", err, out)
		}
		return out
	}
	out := reload(p.configText("d1", 160, "", `real_server "10.99.0.1:80" { weight = 3 }`))
	for _, want := range []string{"instance VI_1 updated (priority)", "~10.99.0.1:80 (weight)"} {
		if !strings.Contains(out, want) {
			t.Errorf("havsd reload said %q, want %q", out, want)
		}
	}
	cfg := strings.Replace(p.configText("d1", 160, "", `real_server "10.99.0.1:80" { weight = 3 }`), "virtual_router_id = 51", "virtual_router_id = 61", 1)
	out = reload(cfg)
	if !strings.Contains(out, "instance VI_1 replaced (vrid 51→61): VIPs released until re-election") || strings.Contains(out, "added") {
		t.Errorf("havsd reload of a VRID change said %q", out)
	}
	eventually(t, 10*time.Second, "the replaced instance elected", func() bool {
		return strings.Contains(p.opLog("d1"), `msg="replaced instance elected" component=director instance=VI_1 change="vrid 51→61" state=master`)
	})
	if lv := levelOf(p.opLog("d1"), regexp.MustCompile(`msg="instance replaced: VIPs released until re-election"`)); lv != "WARN" {
		t.Errorf("the replacement is logged at %q, want WARN", lv)
	}
	p.writeConfig("d1", cfg+"\nvirtual_service \"x\" { scheduler = \"nope\" }\nvrrp_instance \"VI_9\" {}\n")
	if out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1")); err == nil {
		t.Fatalf("havsd reload of a bad file succeeded:\n%s", out)
	}
	var records int
	for line := range strings.Lines(p.opLog("d1")) {
		if strings.Contains(line, `msg="reload rejected" `) && strings.Contains(line, " summary=") {
			records++
			if !strings.Contains(line, " at="+p.config("d1")+":") {
				t.Errorf("a rejected-reload record has no file:line:col: %s", line)
			}
		}
	}
	if records < 3 {
		t.Errorf("the rejected reload gave %d records, want one per diagnostic (at least 3):\n%s", records, p.opLog("d1"))
	}
}

// TestUnknownThenUp: a checked real server is unknown until its first
// result, in status, status --json and /metrics alike, and status says why
// it has its weight meanwhile.
func TestUnknownThenUp(t *testing.T) {
	p := newPair(t, "100ms")
	p.writeConfig("d1", p.configText("d1", 150, "", `real_server "10.99.0.1:80" {
    check "script" {
      command  = ["/bin/sleep", "4"]
      timeout  = "20s"
      interval = "60s"
    }
  }`))
	if out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1")); err != nil {
		t.Fatalf("havsd reload: %v\n%s", err, out)
	}
	out, err := p.havsdCmd("d1", "status", "-s", p.socket("d1"))
	if err != nil || !strings.Contains(out, "unknown: in service until its first check result") {
		t.Errorf("havsd status before the first result: %v\n%s", err, out)
	}
	m, err := p.opMetrics("d1")
	if _, ok := m[`havsd_real_up{real="10.99.0.1:80",service="tcp `+netlab.VIP.String()+`:80"}`]; err != nil || ok {
		t.Errorf("/metrics before the first result: %v, havsd_real_up present: %v", err, ok)
	}
	eventually(t, 15*time.Second, "the real server up after its first check", func() bool {
		out, _ := p.havsdCmd("d1", "status", "-s", p.socket("d1"), "--json")
		return strings.Contains(out, `"health": "up"`)
	})
}

// TestDumpAndStopSayWhatTheyMean: havsd dump speaks the status vocabulary;
// SIGUSR1 writes one record per item; stopping a lone master says why it
// takes Master_Down_Interval.
func TestDumpAndStopSayWhatTheyMean(t *testing.T) {
	p := newPair(t, "100ms")
	out, err := p.havsdCmd("d1", "dump", "-s", p.socket("d1"))
	if err != nil {
		t.Fatalf("havsd dump: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`"[A-Z][A-Za-z]*":`).FindString(out); m != "" {
		t.Errorf("havsd dump holds the Go field name %s", m)
	}
	if !strings.Contains(out, `"advert_interval": "100ms"`) {
		t.Errorf("havsd dump does not write durations as the config does:\n%.2000s", out)
	}
	p.signal("d1", syscall.SIGUSR1)
	eventually(t, 5*time.Second, "the state dump in the log", func() bool {
		return strings.Contains(p.opLog("d1"), `msg="state dump" item=status.instances[VI_1]`)
	})
	for line := range strings.Lines(p.opLog("d1")) {
		if len(line) > 4000 {
			t.Errorf("a log record of %d bytes: %.200s...", len(line), line)
		}
	}
	p.signal("d2", syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.procs["d2"].Wait(ctx); err != nil {
		t.Logf("d2: %v", err)
	}
	p.signal("d1", syscall.SIGTERM)
	if err := p.procs["d1"].Wait(ctx); err != nil {
		t.Logf("d1: %v", err)
	}
	want := regexp.MustCompile(`msg="stopping: masters advertise priority 0 and keep their VIPs until a backup takes over; with no backup answering that takes Master_Down_Interval" component=director masters=VI_1 at_most=\S+`)
	if !want.MatchString(p.opLog("d1")) {
		t.Errorf("stopping a lone master does not say why it waits:\n%s", p.opLog("d1"))
	}
}

// TestHandoverReportsItsSyncGroup: `havsd handover VI_EXT` of a member of
// a sync group reports the member that moved with it.
func TestHandoverReportsItsSyncGroup(t *testing.T) {
	p := newPair(t, "100ms")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, n := range []string{"d1", "d2"} {
		p.signal(n, syscall.SIGTERM)
		if err := p.procs[n].Wait(ctx); err != nil {
			t.Logf("%s: %v", n, err)
		}
		cfg := strings.Replace(p.configText(n, 150-50*i, "", ""), `vrrp_instance "VI_1"`, `vrrp_instance "VI_EXT"`, 1)
		cfg += fmt.Sprintf(`
vrrp_instance "VI_GW" {
  interface         = "eth0"
  virtual_router_id = 52
  priority          = %d
  version           = 3
  advert_interval   = "100ms"
  virtual_ipaddress = ["10.99.0.101/24"]
}

vrrp_sync_group "G" {
  instances = ["VI_EXT", "VI_GW"]
}
`, 150-50*i)
		p.writeConfig(n, cfg)
	}
	for _, n := range []string{"d1", "d2"} {
		p.start(n)
	}
	eventually(t, 15*time.Second, "d1 master of both", func() bool {
		st, err := p.status("d1")
		return err == nil && len(st.Instances) == 2 && st.Instances[0].State == "master" && st.Instances[1].State == "master"
	})
	out, err := p.havsdCmd("d1", "handover", "-s", p.socket("d1"), "VI_EXT")
	if err != nil || !strings.Contains(out, "handed over VI_EXT, VI_GW (sync group G) in ") {
		t.Errorf("havsd handover VI_EXT: %v\n%s", err, out)
	}
}
