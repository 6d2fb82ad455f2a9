package daemon

// TestSoak: a director runs for months. A havsd pair under a 5 ms client
// probe goes through reloads of every kind, handovers, restarts of the
// backup, link flaps and a real server that stops and starts, while d1's
// RSS, Go heap in use, goroutines and open files are sampled through
// `havsd debug runtime`. After a warm-up their slopes must be flat within
// the noise measured in the same run. HAVSD_SOAK=30m runs it for that long
// (default: a 75 s smoke); HAVSD_SOAK_PACE sets the pause between actions
// (default 100ms; raise it to soak gently beside other work).

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
)

// soakState is what d1's configuration varies in the soak.
type soakState struct {
	prio         int    // VI_1's priority: 150 or 140, d1 stays master
	extraVIP     bool   // a second address on VI_1
	vi2          bool   // a second instance
	vi2VRID      int    // its VRID: 60 or 61 (changing it replaces the instance)
	extraService bool   // a second virtual service
	reals        int    // real servers of "web": 1 or 2
	sched        string // "web"'s scheduler: "rr" or "wlc"
	weight       int    // the first real server's weight: 1 or 3
	check        string // "web"'s checked real server: "", "1s" or "2s" interval
}

func (s soakState) config(p *pair) string {
	vips := fmt.Sprintf(`"%s/24"`, netlab.VIP)
	if s.extraVIP {
		vips += `, "10.99.0.101/24"`
	}
	var b strings.Builder
	fmt.Fprintf(&b, `global {
  router_id      = "d1"
  control_socket = %q
  metrics_listen = "127.0.0.1:9473"
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  version           = 3
  advert_interval   = %q
  virtual_ipaddress = [%s]
}
`, p.socket("d1"), s.prio, p.interval, vips)
	if s.vi2 {
		fmt.Fprintf(&b, `
vrrp_instance "VI_2" {
  interface         = "eth0"
  virtual_router_id = %d
  priority          = 100
  version           = 3
  advert_interval   = %q
  virtual_ipaddress = ["10.99.0.150/24"]
}
`, s.vi2VRID, p.interval)
	}
	fmt.Fprintf(&b, `
virtual_service "web" {
  protocol  = "tcp"
  address   = "%s:80"
  scheduler = %q
  real_server "10.99.0.1:80" { weight = %d }
`, netlab.VIP, s.sched, s.weight)
	if s.reals > 1 {
		b.WriteString("  real_server \"10.99.0.2:80\" {}\n")
	}
	if s.check != "" {
		fmt.Fprintf(&b, "  real_server \"%s:8080\" {\n    check \"tcp\" {\n      interval = %q\n    }\n  }\n", netlab.ClientIP, s.check)
	}
	b.WriteString("}\n")
	if s.extraService {
		fmt.Fprintf(&b, `
virtual_service "extra" {
  protocol  = "tcp"
  address   = "%s:443"
  scheduler = "wrr"
  real_server "10.99.0.1:443" {}
}
`, netlab.VIP)
	}
	return b.String()
}

// soakAction is one thing the soak does. A disruptive one may cost the
// probe answers (the VIP moves); the others must lose none.
type soakAction struct {
	name       string
	disruptive bool
	reload     bool
	do         func(s *soak)
}

// soakTally counts one kind of action and the probes lost during it.
type soakTally struct{ n, lost int }

// soak is one run's state.
type soak struct {
	*pair
	cfg     soakState
	reloads int
	rs      *realServer
	ctx     context.Context
}

func (s *soak) reloadD1(wantOK bool) {
	s.t.Helper()
	out, err := s.havsdCmd("d1", "reload", "-s", s.socket("d1"))
	if (err == nil) != wantOK {
		s.t.Fatalf("havsd reload (want ok %v): %v\n%s\nconfig:\n%s", wantOK, err, out, s.cfg.config(s.pair))
	}
	s.reloads++
}

func (s *soak) apply(change func(*soakState)) {
	change(&s.cfg)
	s.writeConfig("d1", s.cfg.config(s.pair))
	s.reloadD1(true)
}

func soakActions() []soakAction {
	flip := func(change func(*soakState)) func(*soak) { return func(s *soak) { s.apply(change) } }
	return []soakAction{
		{"reload unchanged", false, true, flip(func(*soakState) {})},
		{"reload priority", false, true, flip(func(c *soakState) { c.prio = 290 - c.prio })},
		{"reload VIP added/removed", false, true, flip(func(c *soakState) { c.extraVIP = !c.extraVIP })},
		{"reload instance added/removed", false, true, flip(func(c *soakState) { c.vi2 = !c.vi2 })},
		{"reload instance replaced", false, true, flip(func(c *soakState) { c.vi2 = true; c.vi2VRID = 121 - c.vi2VRID })},
		{"reload service added/removed", false, true, flip(func(c *soakState) { c.extraService = !c.extraService })},
		{"reload service changed", false, true, flip(func(c *soakState) {
			c.sched = map[string]string{"rr": "wlc", "wlc": "rr"}[c.sched]
		})},
		{"reload real server added/removed", false, true, flip(func(c *soakState) { c.reals = 3 - c.reals })},
		{"reload real server changed", false, true, flip(func(c *soakState) { c.weight = 4 - c.weight })},
		{"reload check added/changed/removed", false, true, flip(func(c *soakState) {
			c.check = map[string]string{"": "1s", "1s": "2s", "2s": ""}[c.check]
		})},
		{"reload invalid file", false, true, func(s *soak) {
			s.writeConfig("d1", s.cfg.config(s.pair)+"\nvrrp_instance \"broken\" {\n  priority = \"high\"\n")
			s.reloadD1(false)
			s.writeConfig("d1", s.cfg.config(s.pair))
		}},
		{"handover and resume", true, false, func(s *soak) {
			if out, err := s.havsdCmd("d1", "handover", "-s", s.socket("d1"), "VI_1"); err != nil {
				s.t.Fatalf("handover: %v\n%s", err, out)
			}
			eventually(s.t, 15*time.Second, "d2 master after the handover", func() bool { return s.state("d2") == "master" })
			if out, err := s.havsdCmd("d1", "resume", "-s", s.socket("d1"), "VI_1"); err != nil {
				s.t.Fatalf("resume: %v\n%s", err, out)
			}
			s.waitMaster("d1")
		}},
		{"backup SIGTERM and restart", false, false, func(s *soak) {
			old := s.procs["d2"]
			s.signal("d2", syscall.SIGTERM)
			select {
			case <-old.Done():
			case <-time.After(30 * time.Second):
				s.t.Fatal("d2 did not stop within 30 s of SIGTERM")
			}
			_ = s.topo.Forget(old)
			s.start("d2")
			eventually(s.t, 15*time.Second, "d2 backup after its restart", func() bool { return s.state("d2") == "backup" })
		}},
		{"backup link flap", false, false, func(s *soak) {
			s.link("d2", "down")
			eventually(s.t, 15*time.Second, "d2 in FAULT with its link down", func() bool { return s.state("d2") == "fault" })
			s.link("d2", "up")
			eventually(s.t, 15*time.Second, "d2 backup with its link up", func() bool { return s.state("d2") == "backup" })
		}},
		{"real server stops/starts", false, false, func(s *soak) { s.rs.toggle(s.t) }},
	}
}

func (s *soak) link(node, updown string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if err := s.topo.IP(ctx, node, "link", "set", "eth0", updown); err != nil {
		s.t.Fatalf("ip link set eth0 %s in %s: %v", updown, node, err)
	}
}

// realServer is a TCP listener in the client's namespace that the checked
// real server's check connects to; toggle stops or starts it.
type realServer struct {
	p  *pair
	mu sync.Mutex
	ln net.Listener
}

func (r *realServer) toggle(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
		return
	}
	err := r.p.topo.Do(netlab.Client, func() error {
		ln, err := net.Listen("tcp", net.JoinHostPort(netlab.ClientIP.String(), "8080"))
		if err != nil {
			return err
		}
		r.ln = ln
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		return nil
	})
	if err != nil {
		t.Fatalf("starting the real server: %v", err)
	}
}

func (r *realServer) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close()
	}
}

// runtimeSample is one `havsd debug runtime` answer, with when and after
// how many reloads it was taken.
type runtimeSample struct {
	At         time.Duration
	Reloads    int
	RSS        float64 `json:"rss_bytes"`
	HeapInUse  float64 `json:"heap_inuse_bytes"`
	Goroutines float64 `json:"goroutines"`
	FDs        float64 `json:"open_fds"`
}

func (s *soak) sample(start time.Time) runtimeSample {
	s.t.Helper()
	out, err := s.havsdCmd("d1", "debug", "runtime", "-gc", "-s", s.socket("d1"))
	if err != nil {
		s.t.Fatalf("havsd debug runtime: %v\n%s", err, out)
	}
	var r runtimeSample
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		s.t.Fatalf("decoding havsd debug runtime: %v\n%s", err, out)
	}
	r.At, r.Reloads = time.Since(start), s.reloads
	return r
}

func soakDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return d
}

func TestSoak(t *testing.T) {
	total := soakDuration(t, "HAVSD_SOAK", 75*time.Second)
	pace := soakDuration(t, "HAVSD_SOAK_PACE", 100*time.Millisecond)
	every := max(total/60, 3*time.Second)
	warm := max(total/4, 15*time.Second)
	// A long soak runs beside other namespace tests: a prefix of its own
	// (hvdNNN-) keeps it out of their hvd1-, hvd2-, ...
	pairSeq.Store(int32(100 + os.Getpid()%800))
	p := newPair(t, "100ms")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &soak{pair: p, cfg: soakState{prio: 150, vi2VRID: 60, reals: 1, sched: "rr", weight: 1}, rs: &realServer{p: p}, ctx: ctx}
	t.Cleanup(s.rs.close)
	s.writeConfig("d1", s.cfg.config(p))
	s.reloadD1(true)
	s.reloads = 0
	eventually(t, 15*time.Second, "d2 backup", func() bool { return p.state("d2") == "backup" })

	probe := p.probe(ctx, 5*time.Millisecond)
	tallies := map[string]*soakTally{}
	actions := soakActions()
	start := time.Now()
	var samples []runtimeSample
	done := false
	defer func() {
		if !done {
			t.Log("the soak stopped early: its figures so far")
		}
		soakReport(t, s, probe, tallies, actions, samples, start, pace, every, warm)
	}()
	nextSample := time.Now()
	for i := 0; time.Since(start) < total; i++ {
		if time.Now().After(nextSample) {
			samples = append(samples, s.sample(start))
			nextSample = time.Now().Add(every)
		}
		a := actions[i%len(actions)]
		_, lost0, _, _ := probe.snapshot()
		a.do(s)
		if a.disruptive {
			// The VIP moved: wait until d1 answers the probe again.
			_, _, answers, _ := probe.snapshot()
			eventually(t, 15*time.Second, "d1 answering the probe again", func() bool {
				_, _, a2, _ := probe.snapshot()
				return a2["d1"] > answers["d1"]+20
			})
		}
		time.Sleep(pace) // the pause between actions: pacing, not synchronisation
		_, lost1, _, _ := probe.snapshot()
		tl := tallies[a.name]
		if tl == nil {
			tl = &soakTally{}
			tallies[a.name] = tl
		}
		tl.n++
		tl.lost += lost1 - lost0
		// One probe may time out (100 ms) on a loaded machine; a VIP that
		// goes away costs a Master_Down_Interval, dozens of probes.
		if !a.disruptive && lost1-lost0 > 1 {
			t.Errorf("%s (action %d): the probe lost %d answers; this must lose none", a.name, i, lost1-lost0)
		}
	}
	samples = append(samples, s.sample(start))
	s.heapTop()
	done = true
}

// heapTop logs where d1's heap sits at the end: `havsd debug pprof -gc
// heap` through the control socket, summarised by `go tool pprof -top`.
func (s *soak) heapTop() {
	s.t.Helper()
	cmd := exec.Command("ip", "netns", "exec", s.topo.NS("d1"), havsd, "debug", "pprof", "-gc", "-s", s.socket("d1"), "heap")
	prof, err := cmd.Output()
	if err != nil {
		s.t.Errorf("havsd debug pprof heap: %v", err)
		return
	}
	file := filepath.Join(s.t.TempDir(), "heap.pb.gz")
	if err := os.WriteFile(file, prof, 0o644); err != nil {
		s.t.Fatal(err)
	}
	top, err := exec.Command("go", "tool", "pprof", "-top", "-sample_index=inuse_space", "-nodecount=15", file).CombinedOutput()
	if err != nil {
		s.t.Logf("go tool pprof -top: %v (the profile is %d bytes)\n%s", err, len(prof), top)
		return
	}
	s.t.Logf("d1's heap in use at the end (havsd debug pprof -gc heap | go tool pprof -top):\n%s", top)
}

// soakReport prints the run's table and fails the test if a metric grew
// past its noise after the warm-up. It runs even when the soak stopped
// early, so that a long run's samples are not lost.
func soakReport(t *testing.T, s *soak, probe *probeLog, tallies map[string]*soakTally, actions []soakAction, samples []runtimeSample,
	start time.Time, pace, every, warm time.Duration) {
	elapsed := time.Since(start)
	sent, lost, answers, _ := probe.snapshot()

	t.Logf("soak: %s, %d actions, %d reloads (%.0f per minute), pace %s, sample every %s, warm-up %s",
		elapsed.Round(time.Second), func() int {
			n := 0
			for _, tl := range tallies {
				n += tl.n
			}
			return n
		}(), s.reloads, float64(s.reloads)/elapsed.Minutes(), pace, every, warm)
	t.Logf("probe every 5ms: %d sent, %d lost, answers %v", sent, lost, answers)
	for _, a := range actions {
		if tl := tallies[a.name]; tl != nil {
			t.Logf("  %-36s ×%-5d probe lost %d", a.name, tl.n, tl.lost)
		}
	}
	var after []runtimeSample
	for _, r := range samples {
		if r.At >= warm {
			after = append(after, r)
		}
	}
	if len(after) < 4 {
		t.Errorf("only %d samples after the warm-up of %s: run longer", len(after), warm)
		return
	}
	first, last := after[0], after[len(after)-1]
	t.Logf("noise = the standard deviation of the samples after the warm-up around their least-squares line; " +
		"a metric is flat when its fitted growth over that window is at most max(3 noise, floor)")
	t.Logf("%-11s %9s %10s %9s %11s %12s %9s %9s  %s", "d1", "start", "after warm", "end", "slope/hour", "slope/1000rl", "noise", "allowed", "verdict")
	metrics := []struct {
		name  string
		get   func(runtimeSample) float64
		unit  float64
		floor float64 // the least growth that counts, in the metric's unit
	}{
		{"RSS MB", func(r runtimeSample) float64 { return r.RSS }, 1 << 20, 1},
		{"heap MB", func(r runtimeSample) float64 { return r.HeapInUse }, 1 << 20, 0.5},
		{"goroutines", func(r runtimeSample) float64 { return r.Goroutines }, 1, 3},
		{"open fds", func(r runtimeSample) float64 { return r.FDs }, 1, 3},
	}
	for _, m := range metrics {
		var ts, rl, ys []float64
		for _, r := range after {
			ts = append(ts, r.At.Hours())
			rl = append(rl, float64(r.Reloads)/1000)
			ys = append(ys, m.get(r)/m.unit)
		}
		perHour, sigma := fitLine(ts, ys)
		perK, _ := fitLine(rl, ys)
		window := (last.At - first.At).Hours()
		growth := perHour * window
		allowed := math.Max(3*sigma, m.floor)
		verdict := fmt.Sprintf("flat (fitted growth %.2f)", growth)
		if growth > allowed {
			verdict = fmt.Sprintf("GROWS %.2f", growth)
			t.Errorf("%s grows %.2f over the %s after the warm-up (%.2f per hour, %.2f per 1000 reloads): more than the noise allows (%.2f = max(3σ, %.1f))",
				m.name, growth, (last.At - first.At).Round(time.Second), perHour, perK, allowed, m.floor)
		}
		t.Logf("%-11s %9.2f %10.2f %9.2f %11.2f %12.2f %9.2f %9.2f  %s", m.name, m.get(samples[0])/m.unit, m.get(first)/m.unit, m.get(last)/m.unit,
			perHour, perK, sigma, allowed, verdict)
	}
	for _, r := range samples {
		t.Logf("  sample t=%-6s reloads=%-5d rss=%.1fMB heap=%.1fMB goroutines=%.0f fds=%.0f",
			r.At.Round(time.Second), r.Reloads, r.RSS/(1<<20), r.HeapInUse/(1<<20), r.Goroutines, r.FDs)
	}
}

// fitLine returns the least-squares slope of y over x and the standard
// deviation of the residuals: the noise around the trend.
func fitLine(x, y []float64) (slope, sigma float64) {
	n := float64(len(x))
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx, sy, sxx, sxy = sx+x[i], sy+y[i], sxx+x[i]*x[i], sxy+x[i]*y[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0, 0
	}
	slope = (n*sxy - sx*sy) / den
	icept := (sy - slope*sx) / n
	var ss float64
	for i := range x {
		r := y[i] - (icept + slope*x[i])
		ss += r * r
	}
	return slope, math.Sqrt(ss / n)
}
