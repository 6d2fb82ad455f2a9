package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
)

var pairSeq atomic.Int32

// pair is two havsd directors (d1 priority 150, d2 priority 100) and a client
// on one bridge, with a responder on each director.
type pair struct {
	t        *testing.T
	topo     *netlab.Topology
	dir      string
	interval string
	procs    map[string]*netlab.Proc
}

// configText is a director's configuration; extra is appended inside the
// vrrp_instance block, reals inside the virtual_service block (default: one
// unchecked real server).
func (p *pair) configText(node string, prio int, extra, reals string) string {
	if reals == "" {
		reals = `real_server "10.99.0.1:80" {}`
	}
	return fmt.Sprintf(`global {
  router_id      = %q
  control_socket = %q
  metrics_listen = "127.0.0.1:9473"
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  version           = 3
  advert_interval   = %q
  virtual_ipaddress = ["%s/24"]
%s
}

virtual_service "web" {
  protocol  = "tcp"
  address   = "%s:80"
  scheduler = "rr"
  %s
}
`, node, p.socket(node), prio, p.interval, netlab.VIP, extra, netlab.VIP, reals)
}

func (p *pair) socket(node string) string { return filepath.Join(p.dir, node+".sock") }
func (p *pair) config(node string) string { return filepath.Join(p.dir, node+".hcl") }

// writeConfig replaces a director's configuration file atomically (write,
// then rename), as an operator's editor or config management does: a reload
// never reads it half written.
func (p *pair) writeConfig(node, text string) {
	p.t.Helper()
	tmp := p.config(node) + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		p.t.Fatal(err)
	}
	if err := os.Rename(tmp, p.config(node)); err != nil {
		p.t.Fatal(err)
	}
}

// newPair builds the topology, writes both configs and starts both directors
// and responders; it returns once d1 is master.
func newPair(t *testing.T, interval string) *pair {
	t.Helper()
	prefix := fmt.Sprintf("hvd%d-", pairSeq.Add(1))
	spec := netlab.Pair(prefix, netlab.ModeDR, 0)
	spec.StateDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tp, err := netlab.Build(ctx, spec)
	if err != nil {
		t.Fatalf("building topology: %v", err)
	}
	p := &pair{t: t, topo: tp, dir: t.TempDir(), interval: interval, procs: map[string]*netlab.Proc{}}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range netlab.Directors {
				b, _ := os.ReadFile(filepath.Join(p.dir, n+".log"))
				t.Logf("%s log:\n%s", n, b)
			}
		}
		if err := tp.Close(); err != nil {
			t.Errorf("tearing down: %v", err)
		}
	})
	for i, n := range netlab.Directors {
		p.writeConfig(n, p.configText(n, 150-50*i, "", ""))
		if _, err := tp.Start(n, "responder", []string{os.Args[0]}, netlab.ProcOptions{Env: []string{"HAVSD_RESPONDER=" + n}}); err != nil {
			t.Fatal(err)
		}
		p.start(n)
	}
	p.waitMaster("d1")
	return p
}

// start runs havsd in a director's namespace, logging to DIR/NODE.log.
func (p *pair) start(node string) {
	p.t.Helper()
	log, err := os.OpenFile(filepath.Join(p.dir, node+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { log.Close() })
	proc, err := p.topo.Start(node, "havsd", []string{havsd, "run", "-f", p.config(node)}, netlab.ProcOptions{Out: log})
	if err != nil {
		p.t.Fatal(err)
	}
	p.procs[node] = proc
}

// havsdCmd runs a havsd client command in a node's namespace.
func (p *pair) havsdCmd(node string, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", p.topo.NS(node), havsd}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// status is the part of `havsd status --json` the tests read, decoded by
// the documented JSON names.
type status struct {
	LastReload struct {
		OK    bool   `json:"ok"`
		Count uint64 `json:"count"`
	} `json:"last_reload"`
	Instances []struct {
		State             string `json:"state"`
		EffectivePriority int    `json:"effective_priority"`
		Transitions       uint64 `json:"transitions"`
	} `json:"instances"`
	Services []struct {
		Scheduler string `json:"scheduler"`
	} `json:"services"`
}

// statusJSON runs `havsd status --json` on a node. Exit code 4 (every VRRP
// instance in FAULT or stopped) still prints the whole document: it reports
// a state, not a failed command.
func (p *pair) statusJSON(node string) (string, error) {
	out, err := p.havsdCmd(node, "status", "-s", p.socket(node), "--json")
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 4 {
		err = nil
	}
	return out, err
}

func (p *pair) status(node string) (status, error) {
	out, err := p.statusJSON(node)
	var st status
	if err != nil {
		return st, fmt.Errorf("%v: %s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return st, fmt.Errorf("decoding status: %v: %s", err, out)
	}
	return st, nil
}

func (p *pair) state(node string) string {
	st, err := p.status(node)
	if err != nil || len(st.Instances) == 0 {
		return ""
	}
	return st.Instances[0].State
}

func (p *pair) waitMaster(node string) {
	p.t.Helper()
	eventually(p.t, 15*time.Second, node+" master", func() bool { return p.state(node) == "master" })
}

// signal sends sig to a director's havsd.
func (p *pair) signal(node string, sig syscall.Signal) {
	p.t.Helper()
	if err := p.procs[node].Signal(sig); err != nil {
		p.t.Fatalf("signalling %s: %v", node, err)
	}
}

// probeLog is what a client prober saw.
type probeLog struct {
	mu      sync.Mutex
	sent    int
	lost    int
	answers map[string]int
	gaps    []time.Duration // each run of failures, from last success to next success
}

// probeTimeout bounds one probe: a probe that gets no answer within it is lost.
const probeTimeout = 100 * time.Millisecond

// probe connects to VIP:80 from the client every interval until ctx ends
// and records who answered.
func (p *pair) probe(ctx context.Context, interval time.Duration) *probeLog {
	pl := &probeLog{answers: map[string]int{}}
	started := make(chan struct{})
	go func() {
		_ = p.topo.Do(netlab.Client, func() error {
			close(started)
			lastOK := time.Now()
			failing := false
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
				who := dialOnce(net.JoinHostPort(netlab.VIP.String(), "80"), probeTimeout)
				pl.mu.Lock()
				pl.sent++
				if who == "" {
					pl.lost++
					failing = true
				} else {
					pl.answers[who]++
					if failing {
						pl.gaps = append(pl.gaps, time.Since(lastOK))
						failing = false
					}
					lastOK = time.Now()
				}
				pl.mu.Unlock()
			}
		})
	}()
	<-started
	return pl
}

func dialOnce(addr string, timeout time.Duration) string {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout + 50*time.Millisecond))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return ""
	}
	return strings.TrimSpace(line)
}

func (pl *probeLog) snapshot() (sent, lost int, answers map[string]int, gaps []time.Duration) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	answers = map[string]int{}
	for k, v := range pl.answers {
		answers[k] = v
	}
	return pl.sent, pl.lost, answers, append([]time.Duration(nil), pl.gaps...)
}
