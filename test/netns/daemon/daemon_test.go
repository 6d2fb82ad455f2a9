package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/poll"
)

// addrMonitor is `ip monitor address` running in a node.
type addrMonitor struct {
	p     *pair
	node  string
	cmd   *exec.Cmd
	out   poll.Buffer
	n     int    // markers placed
	first string // the first marker the monitor reported
}

func (m *addrMonitor) text() string { return m.out.String() }

// mark adds a marker address to lo and waits until the monitor reports it:
// every address change the kernel made before is in the output by then.
func (m *addrMonitor) mark() {
	m.p.t.Helper()
	addr := m.place()
	poll.Until(m.p.t, 10*time.Second, "ip monitor reporting "+addr, func() bool { return strings.Contains(m.text(), addr) })
}

// place adds the next marker address to lo and returns it.
func (m *addrMonitor) place() string {
	m.p.t.Helper()
	m.n++
	addr := fmt.Sprintf("127.7.7.%d", m.n)
	if err := m.p.topo.IP(context.Background(), m.node, "addr", "add", addr+"/32", "dev", "lo"); err != nil {
		m.p.t.Fatal(err)
	}
	return addr
}

// subscribed places markers until the monitor reports one: a marker added
// before ip monitor has subscribed is never reported, so the first may be
// lost on a loaded machine.
func (m *addrMonitor) subscribed() {
	m.p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		addr := m.place()
		if poll.For(500*time.Millisecond, func() bool { return strings.Contains(m.text(), addr+"/") }) {
			m.first = addr + "/32"
			return
		}
	}
	m.p.t.Fatal("ip monitor reported none of its markers within 10s")
}

// watchAddrs starts `ip monitor address` in node and returns once it
// reports changes; stop ends it and returns what it printed after that.
func (p *pair) watchAddrs(node string) *addrMonitor {
	p.t.Helper()
	m := &addrMonitor{p: p, node: node, cmd: exec.Command("ip", "-n", p.topo.NS(node), "monitor", "address")}
	m.cmd.Stdout = &m.out
	if err := m.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = m.cmd.Process.Kill(); _ = m.cmd.Wait() })
	m.subscribed()
	return m
}

// changesSinceStart returns the monitor's output after its first marker,
// up to a final marker placed now.
func (m *addrMonitor) changesSinceStart() string {
	m.p.t.Helper()
	m.mark()
	text := m.text()
	_, after, _ := strings.Cut(text, m.first)
	return after
}

func TestReloadUnchangedTouchesNothing(t *testing.T) {
	p := newPair(t, "100ms")
	before, err := p.status("d1")
	if err != nil {
		t.Fatal(err)
	}
	mon := p.watchAddrs("d1")
	out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1"))
	if err != nil {
		t.Fatalf("havsd reload: %v\n%s", err, out)
	}
	if !strings.Contains(out, "no change") {
		t.Errorf("reload of an unchanged file said %q, want \"no change\"", out)
	}
	if ev := mon.changesSinceStart(); strings.Contains(ev, netlab.VIP.String()) || strings.Contains(ev, "Deleted") {
		t.Errorf("an unchanged reload changed addresses:\n%s", ev)
	}
	after, err := p.status("d1")
	if err != nil {
		t.Fatal(err)
	}
	if after.Instances[0].State != "master" || after.Instances[0].Transitions != before.Instances[0].Transitions {
		t.Errorf("instance after reload: %+v; before: %+v", after.Instances[0], before.Instances[0])
	}
}

func TestReloadWithSyntaxErrorKeepsRunning(t *testing.T) {
	p := newPair(t, "100ms")
	good, _ := os.ReadFile(p.config("d1"))
	bad := strings.Replace(string(good), `scheduler = "rr"`, `scheduler = "rrr"`, 1) + "\nvrrp_instance {\n"
	p.writeConfig("d1", bad)
	out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1"))
	if err == nil {
		t.Fatalf("havsd reload of a broken file succeeded:\n%s", out)
	}
	if !strings.Contains(out, p.config("d1")+":") {
		t.Errorf("reload output lacks file:line of the error:\n%s", out)
	}
	st, err := p.status("d1")
	if err != nil {
		t.Fatal(err)
	}
	if st.LastReload.OK || st.Instances[0].State != "master" || st.Services[0].Scheduler != "rr" {
		t.Errorf("after a rejected reload: reload %+v, state %s, scheduler %s", st.LastReload, st.Instances[0].State, st.Services[0].Scheduler)
	}
}

// TestSIGHUPStorm: 100 reloads in 10 s, alternating valid and invalid files,
// while the client probes every 5 ms: nothing lost, no master change.
func TestSIGHUPStorm(t *testing.T) {
	p := newPair(t, "100ms")
	good, err := os.ReadFile(p.config("d1"))
	if err != nil {
		t.Fatal(err)
	}
	bad := string(good) + "\nvirtual_service \"x\" { scheduler = \"nope\" }\n"
	ctx, cancel := context.WithCancel(context.Background())
	pl := p.probe(ctx, 5*time.Millisecond)
	before, err := p.status("d1")
	if err != nil {
		t.Fatal(err)
	}
	pace := time.NewTicker(100 * time.Millisecond) // 100 reloads in 10 s
	for i := range 100 {
		if i%2 == 0 {
			p.writeConfig("d1", string(good))
		} else {
			p.writeConfig("d1", bad)
		}
		p.signal("d1", syscall.SIGHUP)
		<-pace.C
	}
	pace.Stop()
	// The last word: the good file, loaded by a reload that started after
	// every signal (a waiting reload is answered by a load begun after it).
	p.writeConfig("d1", string(good))
	out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1"))
	cancel()
	if err != nil {
		t.Fatalf("final reload of the good file: %v\n%s", err, out)
	}
	sent, lost, answers, _ := pl.snapshot()
	t.Logf("SIGHUP storm: %d probes, %d lost, answers %v", sent, lost, answers)
	after, err := p.status("d1")
	if err != nil {
		t.Fatal(err)
	}
	if lost != 0 || answers["d2"] != 0 {
		t.Errorf("during the storm the client lost %d of %d probes and d2 answered %d", lost, sent, answers["d2"])
	}
	if after.Instances[0].State != "master" || after.Instances[0].Transitions != before.Instances[0].Transitions {
		t.Errorf("master changed during the storm: %+v", after.Instances[0])
	}
	if !after.LastReload.OK || after.LastReload.Count < 2 || len(after.Services) != len(before.Services) {
		t.Errorf("after the storm: last reload %+v, %d services (before %d); want the good file loaded", after.LastReload, len(after.Services), len(before.Services))
	}
}

// failover probes the VIP every 5 ms from the client, runs trigger, waits
// until d2 is master and answering, and returns the lost probes and gaps.
func (p *pair) failover(what string, trigger func()) (lost int, gaps []time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pl := p.probe(ctx, 5*time.Millisecond)
	eventually(p.t, 5*time.Second, "client answered by d1", func() bool { _, _, a, _ := pl.snapshot(); return a["d1"] > 20 })
	trigger()
	p.waitMaster("d2")
	eventually(p.t, 5*time.Second, "client answered by d2", func() bool { _, _, a, _ := pl.snapshot(); return a["d2"] > 20 })
	cancel()
	sent, lost, answers, gaps := pl.snapshot()
	p.t.Logf("%s: %d probes, %d lost, answers %v, gaps %v", what, sent, lost, answers, gaps)
	return lost, gaps
}

// TestPlannedHandover: under a 5 ms probe a handover loses at most one probe.
func TestPlannedHandover(t *testing.T) {
	p := newPair(t, "100ms")
	var took time.Duration
	lost, _ := p.failover("handover", func() {
		start := time.Now()
		out, err := p.havsdCmd("d1", "handover", "-s", p.socket("d1"))
		if err != nil {
			t.Fatalf("havsd handover: %v\n%s", err, out)
		}
		took = time.Since(start)
	})
	t.Logf("havsd handover returned after %s", took)
	if lost > 1 {
		t.Errorf("planned handover lost %d probes, want at most 1", lost)
	}
	if p.state("d1") != "backup" {
		t.Errorf("d1 is %s after handing over, want backup", p.state("d1"))
	}
}

// TestStatusJSONAndMetrics: status --json decodes to the documented shape,
// /metrics parses and agrees with it.
func TestStatusJSONAndMetrics(t *testing.T) {
	p := newPair(t, "100ms")
	out, err := p.havsdCmd("d1", "status", "-s", p.socket("d1"), "--json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"router_id", "config_file", "started", "last_reload", "instances", "services", "ipvs"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("status --json lacks %q", k)
		}
	}
	var families map[string]*dto.MetricFamily
	err = p.topo.Do(netlab.D1, func() error {
		// Dial here: http.Client would dial on another thread, outside d1.
		c, err := net.Dial("tcp", "127.0.0.1:9473")
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprint(c, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err = parser.TextToMetricFamilies(resp.Body)
		return err
	})
	if err != nil {
		t.Fatalf("scraping metrics: %v", err)
	}
	if got := gaugeWith(families["havsd_vrrp_state"], "state", "master"); got != 1 {
		t.Errorf("havsd_vrrp_state{state=master} = %v, want 1", got)
	}
	st, _ := p.status("d1")
	if got := families["havsd_vrrp_priority"].GetMetric()[0].GetGauge().GetValue(); got != float64(st.Instances[0].EffectivePriority) {
		t.Errorf("havsd_vrrp_priority = %v, status says %d", got, st.Instances[0].EffectivePriority)
	}
	if families["havsd_vrrp_adverts_sent_total"] == nil || families["havsd_ipvs_available"] == nil {
		t.Errorf("metrics lack adverts or ipvs families: %v", keys(families))
	}
}

func gaugeWith(f *dto.MetricFamily, label, value string) float64 {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

func keys(m map[string]*dto.MetricFamily) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestControlSocketRefusesNonRoot runs `havsd status` as nobody.
func TestControlSocketRefusesNonRoot(t *testing.T) {
	p := newPair(t, "100ms")
	cmd := exec.Command("ip", "netns", "exec", p.topo.NS("d1"), "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
		havsd, "status", "-s", p.socket("d1"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a non-root user read the status:\n%s", out)
	}
	if !strings.Contains(string(out), "permission denied") {
		t.Errorf("non-root status said %q, want a permission error", out)
	}
}

// TestGracefulStopHandsOver: SIGTERM on the master makes the backup take over
// with at most one lost probe (make-before-break), and d1 releases the VIP.
func TestGracefulStopHandsOver(t *testing.T) {
	p := newPair(t, "100ms")
	lost, _ := p.failover("graceful stop", func() {
		p.signal("d1", syscall.SIGTERM)
		select {
		case <-p.procs["d1"].Done():
		case <-time.After(10 * time.Second):
			t.Fatal("d1 did not exit after SIGTERM")
		}
	})
	if lost > 1 {
		t.Errorf("graceful stop lost %d probes, want at most 1", lost)
	}
	out, _ := exec.Command("ip", "-n", p.topo.NS("d1"), "-o", "addr", "show", "dev", "eth0").CombinedOutput()
	if strings.Contains(string(out), netlab.VIP.String()+"/") {
		t.Errorf("d1 still holds the VIP after stopping:\n%s", out)
	}
}

// TestCrashFailsOver: SIGKILL of the master; the backup takes over within
// Master_Down_Interval plus margin and the client is answered by d2.
func TestCrashFailsOver(t *testing.T) {
	p := newPair(t, "100ms")
	_, gaps := p.failover("crash", func() {
		p.signal("d1", syscall.SIGKILL)
		// A crashed director leaves its VIP behind; pull its link like a dead box.
		if err := p.topo.IP(context.Background(), "d1", "link", "set", "eth0", "down"); err != nil {
			t.Fatal(err)
		}
	})
	if len(gaps) == 0 {
		t.Fatal("no reachability gap seen for a crash: the prober is not measuring")
	}
	fmt.Fprintf(os.Stderr, "crash gap %s (Master_Down_Interval at 100ms, priority 100: %s)\n", gaps[0], 3*100*time.Millisecond+61*time.Millisecond)
}

// TestTrackedServiceMovesVIP: d1's only real server is dead, so its tracked
// service loses quorum and its priority drops by 60 (150 → 90), below d2's
// 100: d2 preempts and takes the VIP.
func TestTrackedServiceMovesVIP(t *testing.T) {
	p := newPair(t, "100ms")
	track := `  track_service "web" {
    weight = 60
  }`
	// d1 checks a port nobody listens on; d2 checks its own responder.
	dead := `real_server "10.99.0.1:81" {
    check "tcp" {
      interval = "200ms"
      timeout  = "100ms"
    }
  }`
	p.writeConfig("d2", p.configText("d2", 100, "  preempt = true", ""))
	p.writeConfig("d1", p.configText("d1", 150, track, dead))
	if out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1")); err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	p.waitMaster("d2")
	st, err := p.status("d1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Instances[0].EffectivePriority != 90 || st.Instances[0].State != "backup" {
		t.Errorf("d1 after its service lost quorum: %+v, want backup at priority 90", st.Instances[0])
	}
}
