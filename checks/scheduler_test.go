package checks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/havsd/havsd/test/poll"
)

// startScheduler runs s until the test ends and waits for Run to return.
func startScheduler(t *testing.T, s *Scheduler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// await waits for a transition of id to up, failing after limit.
func await(t *testing.T, s *Scheduler, id ID, up bool, limit time.Duration) Transition {
	t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		select {
		case tr := <-s.Transitions():
			if tr.ID == id && tr.Up == up {
				return tr
			}
			t.Logf("other transition: %+v", tr)
		case <-timer.C:
			t.Fatalf("no transition of %s to up=%v within %s; status %+v", id, up, limit, s.Status()[id])
			return Transition{}
		}
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// dnsServer answers A queries for ok.test. and NXDOMAIN otherwise; nx
// switches every answer to NXDOMAIN.
func dnsServer(t *testing.T, ip string, nx *atomic.Bool) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q dnsmessage.Message
			if q.Unpack(buf[:n]) != nil || len(q.Questions) != 1 {
				continue
			}
			r := dnsmessage.Message{Header: dnsmessage.Header{ID: q.ID, Response: true, RCode: dnsmessage.RCodeNameError}, Questions: q.Questions}
			if q.Questions[0].Name.String() == "ok.test." && !nx.Load() {
				r.RCode = dnsmessage.RCodeSuccess
				r.Answers = []dnsmessage.Resource{{
					Header: dnsmessage.ResourceHeader{Name: q.Questions[0].Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 5},
					Body:   &dnsmessage.AResource{A: [4]byte{127, 0, 0, 9}},
				}}
			}
			out, err := r.Pack()
			if err == nil {
				pc.WriteTo(out, from)
			}
		}
	}()
	return addrPort(t, pc.LocalAddr())
}

// TestSchedulerRealServers breaks real loopback servers one way each and
// checks that every transition arrives within interval x (retry+1) + timeout
// (with generous slack for a loaded machine: this is a correctness bound).
func TestSchedulerRealServers(t *testing.T) {
	noLeaks(t)
	const (
		interval = 200 * time.Millisecond
		timeout  = 300 * time.Millisecond
		retry    = 2
	)
	bound := interval*time.Duration(retry+1) + timeout
	limit := 3*bound + 2*time.Second

	tcpLn := listenTCP(t, "127.0.0.4")
	var fail500, changed, silent, trickle atomic.Bool
	httpAP := httpServer(t, "127.0.0.4", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/silent" && silent.Load():
			<-r.Context().Done() // accepts, reads the request, never answers
		case r.URL.Path == "/trickle" && trickle.Load():
			w.Header().Set("Content-Length", "100")
			for range 100 {
				w.Write([]byte("x"))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		case r.URL.Path == "/status" && fail500.Load():
			http.Error(w, "down", http.StatusInternalServerError)
		case r.URL.Path == "/body" && changed.Load():
			fmt.Fprint(w, "v2")
		default:
			fmt.Fprint(w, "v1")
		}
	}))
	var nx atomic.Bool
	dnsAP := dnsServer(t, "127.0.0.4", &nx)
	hang := filepath.Join(t.TempDir(), "hang")
	base := Spec{Interval: interval, Timeout: timeout, Retry: retry, DelayBeforeRetry: interval / 2}
	mk := func(k Kind, ap netip.AddrPort, mod func(*Spec)) []Spec {
		s := base
		s.Kind, s.Target = k, ap
		if mod != nil {
			mod(&s)
		}
		return []Spec{s}
	}
	targets := map[ID][]Spec{
		"tcp":    mk(KindTCP, addrPort(t, tcpLn.Addr()), nil),
		"status": mk(KindHTTP, httpAP, func(s *Spec) { s.HTTP = &HTTPSpec{Path: "/status"} }),
		"digest": mk(KindHTTP, httpAP, func(s *Spec) { s.HTTP = &HTTPSpec{Path: "/body", Digest: md5hex("v1")} }),
		"silent": mk(KindHTTP, httpAP, func(s *Spec) { s.HTTP = &HTTPSpec{Path: "/silent"} }),
		"trickle": mk(KindHTTP, httpAP, func(s *Spec) {
			s.HTTP = &HTTPSpec{Path: "/trickle", Regex: "v1|x"}
		}),
		"dns": mk(KindDNS, dnsAP, func(s *Spec) { s.DNS = &DNSSpec{Name: "ok.test", Type: "A"} }),
		"script": mk(KindScript, httpAP, func(s *Spec) {
			s.Script = &ScriptSpec{Argv: []string{"/bin/sh", "-c", "test ! -e " + hang + " || sleep 600"}}
		}),
	}
	s := NewScheduler(Options{Logger: testLogger(t)})
	s.Set(targets)
	startScheduler(t, s)
	// All start up (no alpha): wait until each has passed a check.
	waitFor(t, 5*time.Second, func() bool {
		for id, h := range s.Status() {
			if h.LastCheck.IsZero() || !h.Up {
				t.Logf("waiting for %s: %+v", id, h)
				return false
			}
		}
		return true
	})

	breaks := []struct {
		id           ID
		break_, heal func()
	}{
		{"tcp", func() { tcpLn.Close() }, nil},
		{"status", func() { fail500.Store(true) }, func() { fail500.Store(false) }},
		{"digest", func() { changed.Store(true) }, func() { changed.Store(false) }},
		{"silent", func() { silent.Store(true) }, func() { silent.Store(false) }},
		{"trickle", func() { trickle.Store(true) }, func() { trickle.Store(false) }},
		{"dns", func() { nx.Store(true) }, func() { nx.Store(false) }},
		{"script", func() { os.WriteFile(hang, nil, 0o644) }, func() { os.Remove(hang) }},
	}
	for _, b := range breaks {
		start := time.Now()
		b.break_()
		tr := await(t, s, b.id, false, limit)
		t.Logf("%s down after %s (bound %s): %s", b.id, time.Since(start).Round(time.Millisecond), bound, tr.Reason)
		if b.heal == nil {
			continue
		}
		start = time.Now()
		b.heal()
		await(t, s, b.id, true, limit)
		t.Logf("%s up after %s", b.id, time.Since(start).Round(time.Millisecond))
	}
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	poll.Until(t, limit, "the condition", cond)
}

// switchboard hands out fake checkers whose verdict and call count are
// controlled per target (by the spec's DNS name field, unused otherwise).
type switchboard struct {
	mu    sync.Mutex
	fail  map[string]error
	calls map[string]int
	panic map[string]bool
}

func newSwitchboard() *switchboard {
	return &switchboard{fail: map[string]error{}, calls: map[string]int{}, panic: map[string]bool{}}
}

func (b *switchboard) New(s Spec) (Checker, error) {
	name := s.DNS.Name
	return CheckerFunc(func(context.Context) error {
		b.mu.Lock()
		b.calls[name]++
		err, p := b.fail[name], b.panic[name]
		b.mu.Unlock()
		if p {
			panic("checker bug")
		}
		return err
	}), nil
}

func (b *switchboard) set(name string, err error, panics bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail[name], b.panic[name] = err, panics
}

func (b *switchboard) count(name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[name]
}

func fakeSpec(name string, interval time.Duration) Spec {
	return Spec{Kind: KindDNS, Target: netip.MustParseAddrPort("127.0.0.1:53"), Interval: interval,
		Timeout: time.Second, DNS: &DNSSpec{Name: name}}
}

func TestSchedulerPanicIsAFailure(t *testing.T) {
	noLeaks(t)
	b := newSwitchboard()
	s := NewScheduler(Options{New: b.New})
	s.Set(map[ID][]Spec{"p": {fakeSpec("p", 10*time.Millisecond)}, "q": {fakeSpec("q", 10*time.Millisecond)}})
	startScheduler(t, s)
	b.set("p", nil, true)
	tr := await(t, s, "p", false, 5*time.Second)
	if want := "dns check failed 1 time(s) in a row: dns checker panicked: checker bug"; tr.Reason != want {
		t.Errorf("reason %q, want %q", tr.Reason, want)
	}
	n := b.count("q")
	waitFor(t, 5*time.Second, func() bool { return b.count("q") > n+3 })
	if st := s.Stats(); st.Panics == 0 || st.Failures == 0 {
		t.Errorf("stats %+v: want panics and failures counted", st)
	}
}

func TestSchedulerReloadKeepsState(t *testing.T) {
	noLeaks(t)
	b := newSwitchboard()
	var results atomic.Int64
	s := NewScheduler(Options{New: b.New, OnResult: func(ID, Kind, time.Duration, error) { results.Add(1) }})
	slow := fakeSpec("slow", time.Hour) // checked once, then not for an hour
	gone := fakeSpec("gone", 10*time.Millisecond)
	s.Set(map[ID][]Spec{"slow": {slow}, "gone": {gone}})
	startScheduler(t, s)
	waitFor(t, 5*time.Second, func() bool { return b.count("slow") == 1 && b.count("gone") > 2 })

	// Reload with "slow" unchanged: not re-probed. "gone" removed: its
	// checks stop. A new alpha target starts down and comes up.
	fresh := fakeSpec("fresh", 10*time.Millisecond)
	fresh.Alpha = true
	s.Set(map[ID][]Spec{"slow": {slow}, "fresh": {fresh}})
	await(t, s, "fresh", true, 5*time.Second)
	if n := b.count("slow"); n != 1 {
		t.Errorf("unchanged target re-probed on reload: %d checks", n)
	}
	g := b.count("gone")
	waitFor(t, 5*time.Second, func() bool { return b.count("fresh") > 5 })
	if n := b.count("gone"); n > g+1 {
		t.Errorf("removed target still checked: %d -> %d", g, n)
	}
	if _, ok := s.Status()["gone"]; ok {
		t.Errorf("removed target still in Status")
	}
	// A changed spec restarts checks but keeps the state until proven.
	b.set("slow", errors.New("refused"), false)
	changed := slow
	changed.Timeout = 2 * time.Second
	changed.Interval = 10 * time.Millisecond
	s.Set(map[ID][]Spec{"slow": {changed}, "fresh": {fresh}})
	if !s.Status()["slow"].Up {
		t.Errorf("changed target lost its up state on reload")
	}
	await(t, s, "slow", false, 5*time.Second)
	if results.Load() == 0 {
		t.Errorf("OnResult never called")
	}
}

func TestSchedulerSlowConsumer(t *testing.T) {
	noLeaks(t)
	b := newSwitchboard()
	s := NewScheduler(Options{New: b.New})
	ids := map[ID][]Spec{}
	for i := range 20 {
		name := fmt.Sprint("t", i)
		ids[ID(name)] = []Spec{fakeSpec(name, 5*time.Millisecond)}
	}
	s.Set(ids)
	startScheduler(t, s)
	// Nobody reads Transitions while every target flaps down and up and
	// finally settles down: checks go on, the consumer gets one per ID.
	for round := range 5 {
		for id := range ids {
			var err error
			if round%2 == 0 {
				err = errors.New("down")
			}
			b.set(string(id), err, false)
		}
		n := s.Stats().Checks
		waitFor(t, 5*time.Second, func() bool { return s.Stats().Checks > n+100 })
	}
	waitFor(t, 5*time.Second, func() bool {
		for _, h := range s.Status() {
			if h.Up {
				return false
			}
		}
		return true
	})
	// Exactly one "down" per ID: the flaps were coalesced away.
	got := map[ID]int{}
	for range ids {
		select {
		case tr := <-s.Transitions():
			if tr.Up {
				t.Errorf("stale up transition delivered: %+v", tr)
			}
			got[tr.ID]++
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d transitions delivered", len(got), len(ids))
		}
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s: %d transitions, want 1", id, n)
		}
	}
	select {
	case tr := <-s.Transitions():
		t.Errorf("extra transition %+v", tr)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSchedulerRemovalCancelsRunningCheck(t *testing.T) {
	noLeaks(t)
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	s := NewScheduler(Options{New: func(Spec) (Checker, error) {
		return CheckerFunc(func(ctx context.Context) error {
			started <- struct{}{}
			<-ctx.Done() // hangs until cancelled
			ended <- ctx.Err()
			return ctx.Err()
		}), nil
	}})
	sp := fakeSpec("hang", time.Hour)
	sp.Timeout = time.Hour
	s.Set(map[ID][]Spec{"hang": {sp}})
	startScheduler(t, s)
	<-started
	s.Set(nil)
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("check ended with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("removing the target did not cancel its running check")
	}
	if st := s.Stats(); st.Checks != 0 || st.Transitions != 0 {
		t.Errorf("a cancelled check counted as a verdict: %+v", st)
	}
}

func TestSchedulerRunAgainAfterStop(t *testing.T) {
	noLeaks(t)
	b := newSwitchboard()
	s := NewScheduler(Options{New: b.New})
	s.Set(map[ID][]Spec{"a": {fakeSpec("a", 5*time.Millisecond)}})
	for round := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		n := b.count("a")
		waitFor(t, 5*time.Second, func() bool { return b.count("a") > n+3 })
		if round == 0 {
			if err := s.Run(ctx); err == nil {
				t.Errorf("a second concurrent Run returned nil")
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
}

// TestSchedulerStall: a timeout that fires late (the checker did not run
// while the server had time to answer) is retried at once, not counted;
// a timeout on time, or a refusal, is a verdict on the server.
func TestSchedulerStall(t *testing.T) {
	const timeout = 400 * time.Millisecond
	tests := []struct {
		name     string
		sleep    time.Duration // before the first result
		first    error         // the first result; later ones pass, or repeat it with always
		always   bool
		wantDown bool
	}{
		{"late timeout retried", timeout * 2, timeoutf("late"), false, false},
		{"timeout on time counts", timeout, timeoutf("on time"), true, true},
		{"refusal during a stall counts", timeout * 2, errors.New("connection refused"), false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			var calls atomic.Int64
			s := NewScheduler(Options{Logger: testLogger(t), New: func(Spec) (Checker, error) {
				return CheckerFunc(func(ctx context.Context) error {
					if calls.Add(1) > 1 && !tc.always {
						return nil
					}
					time.Sleep(tc.sleep) // the check's own time, as a stalled process sees it
					return tc.first
				}), nil
			}})
			sp := fakeSpec("x", time.Hour) // a second call within the test is a retry
			sp.Timeout = timeout
			s.Set(map[ID][]Spec{"x": {sp}})
			startScheduler(t, s)
			if tc.wantDown {
				await(t, s, "x", false, 5*time.Second)
				return
			}
			waitFor(t, 5*time.Second, func() bool { return calls.Load() >= 2 && s.Status()["x"].LastCheck != (time.Time{}) })
			st := s.Stats()
			if !s.Status()["x"].Up || st.Failures != 0 || st.StallRetries == 0 || st.Stalls == 0 {
				t.Errorf("after a late timeout: up=%v stats %+v; want up, no failure, a stall and a retry", s.Status()["x"].Up, st)
			}
			select {
			case tr := <-s.Transitions():
				t.Errorf("transition after a stall: %+v", tr)
			default:
			}
		})
	}
}

// TestSchedulerSharedChecksRunOnce: 100 services sharing 4 real servers
// with the same check settings probe each server once per interval, and a
// failure reaches all 100 services of that server.
func TestSchedulerSharedChecksRunOnce(t *testing.T) {
	noLeaks(t)
	const services, reals, interval = 100, 4, 20 * time.Millisecond
	b := newSwitchboard()
	s := NewScheduler(Options{New: b.New})
	targets := map[ID][]Spec{}
	for v := range services {
		for r := range reals {
			targets[ID(fmt.Sprintf("vs%d/r%d", v, r))] = []Spec{fakeSpec(fmt.Sprint("r", r), interval)}
		}
	}
	s.Set(targets)
	startScheduler(t, s)
	waitFor(t, 5*time.Second, func() bool { return b.count("r0") >= 10 })
	st := s.Stats()
	var probes int
	for r := range reals {
		probes += b.count(fmt.Sprint("r", r))
	}
	t.Logf("%d targets, %d probes; %d probe runs while r0 ran %d times", st.Targets, st.Probes, probes, b.count("r0"))
	if st.Targets != services*reals || st.Probes != reals {
		t.Errorf("Stats: %d targets, %d probes; want %d, %d", st.Targets, st.Probes, services*reals, reals)
	}
	if probes > reals*(b.count("r0")+1) {
		t.Errorf("%d probe runs for %d servers checked about %d times each: identical checks not shared", probes, reals, b.count("r0"))
	}
	if h := s.Status()["vs42/r1"]; len(h.Checks) != 1 || h.Checks[0].SharedBy != services {
		t.Errorf("status of vs42/r1: %+v; want one check shared by %d", h, services)
	}
	b.set("r3", errors.New("refused"), false)
	down := map[ID]bool{}
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	for len(down) < services {
		select {
		case tr := <-s.Transitions():
			if tr.Up || !strings.HasSuffix(string(tr.ID), "/r3") {
				t.Fatalf("unexpected transition %+v", tr)
			}
			down[tr.ID] = true
		case <-timer.C:
			t.Fatalf("%d of %d services saw r3 go down within 5 s", len(down), services)
		}
	}
}

// TestSchedulerOverloadStretchesInterval: checks that cannot all run on
// time wait for a slot and stretch the effective interval, which Status
// and Stats show, instead of failing.
func TestSchedulerOverloadStretchesInterval(t *testing.T) {
	noLeaks(t)
	const n, interval, work = 5, 20 * time.Millisecond, 20 * time.Millisecond
	s := NewScheduler(Options{MaxInFlight: 1, New: func(Spec) (Checker, error) {
		return CheckerFunc(func(context.Context) error { time.Sleep(work); return nil }), nil
	}})
	targets := map[ID][]Spec{}
	for i := range n {
		targets[ID(fmt.Sprint("t", i))] = []Spec{fakeSpec(fmt.Sprint("t", i), interval)}
	}
	s.Set(targets)
	startScheduler(t, s)
	// One check at a time of 20 ms each: a round of 5 takes at least
	// 100 ms, five times the interval.
	waitFor(t, 10*time.Second, func() bool {
		for _, h := range s.Status() {
			if h.Checks[0].EffectiveInterval == 0 {
				return false
			}
		}
		return true
	})
	for id, h := range s.Status() {
		if c := h.Checks[0]; c.EffectiveInterval < 3*interval || c.Interval != interval || !h.Up {
			t.Errorf("%s: interval %s, effective %s, up %v; want at least %s and up", id, c.Interval, c.EffectiveInterval, h.Up, 3*interval)
		}
	}
	if st := s.Stats(); st.StartLag < interval || st.Failures != 0 || st.InFlightLimit != 1 {
		t.Errorf("stats %+v: want a start lag of at least %s, no failure, limit 1", st, interval)
	}
}
