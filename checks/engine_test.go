package checks

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// sim drives an engine on fake time. outcome decides each check's result
// from the target, the check's index and the time the check starts.
type sim struct {
	e       *engine
	now     time.Time
	latency time.Duration
	outcome func(id ID, idx int, at time.Time) error
	trs     []Transition
	runs    map[ID][]time.Time // check start times per target
}

func newSim(t *testing.T, rnd func(int64) int64) *sim {
	t.Helper()
	if rnd == nil {
		rnd = func(int64) int64 { return 0 }
	}
	s := &sim{now: t0, runs: map[ID][]time.Time{}}
	s.e = newEngine(rnd, func(Spec) (Checker, error) { return CheckerFunc(func(context.Context) error { return nil }), nil }, 0)
	s.outcome = func(ID, int, time.Time) error { return nil }
	return s
}

// runUntil processes every check due up to end, in time order.
func (s *sim) runUntil(end time.Time) {
	for {
		next, ok := s.e.nextDue()
		if !ok || next.After(end) {
			s.now = end
			return
		}
		if next.After(s.now) {
			s.now = next
		}
		for _, p := range s.e.due(s.now, s.now) {
			// A shared probe is named after its first user.
			id, idx := p.users[0].id, indexOf(p)
			s.runs[id] = append(s.runs[id], s.now)
			err := s.outcome(id, idx, s.now)
			trs, _ := s.e.result(p, s.now.Add(s.latency), s.latency, err, dynWeight{})
			s.trs = append(s.trs, trs...)
		}
	}
}

func indexOf(p *probe) int {
	for i, q := range p.users[0].probes {
		if q == p {
			return i
		}
	}
	return -1
}

func tcpSpec(interval time.Duration, retry, rise int) Spec {
	return Spec{Kind: KindTCP, Target: netip.MustParseAddrPort("127.0.0.1:80"), Interval: interval,
		Timeout: time.Second, Retry: retry, Rise: rise, DelayBeforeRetry: interval / 4}
}

// on returns sp checking another port: another server, so another probe.
func on(sp Spec, port uint16) Spec {
	sp.Target = netip.AddrPortFrom(sp.Target.Addr(), port)
	return sp
}

var errDown = errors.New("connect 127.0.0.1:80: connection refused")

// failFrom makes checks fail from time from (and pass again from until, if set).
func failFrom(from, until time.Time) func(ID, int, time.Time) error {
	return func(_ ID, _ int, at time.Time) error {
		if !at.Before(from) && (until.IsZero() || at.Before(until)) {
			return errDown
		}
		return nil
	}
}

func TestEngineHysteresis(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name     string
		spec     Spec
		failAt   time.Duration // checks fail from t0+failAt
		passAt   time.Duration // and pass again from t0+passAt (0: never)
		end      time.Duration
		wantDown time.Duration // fake time of the down transition (0: none)
		wantUp   time.Duration // fake time of the up transition (0: none)
	}{
		// retry 1: the first failure takes it down.
		{"retry1", tcpSpec(10*sec, 1, 1), 15 * sec, 0, 60 * sec, 20 * sec, 0},
		// retry 3: failures at 20, then retries after 2.5 s each: 22.5, 25.
		{"retry3", tcpSpec(10*sec, 3, 1), 15 * sec, 0, 60 * sec, 25 * sec, 0},
		// rise 2: down at 20, passes at 40 and 50 -> up at 50.
		{"rise2", tcpSpec(10*sec, 1, 2), 15 * sec, 35 * sec, 80 * sec, 20 * sec, 50 * sec},
		// a single failure below retry neither goes down nor loses the rhythm.
		{"blip", tcpSpec(10*sec, 2, 1), 15 * sec, 21 * sec, 80 * sec, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, nil)
			var until time.Time
			if tc.passAt > 0 {
				until = t0.Add(tc.passAt)
			}
			s.outcome = failFrom(t0.Add(tc.failAt), until)
			s.e.set(t0, map[ID][]Spec{"a": {tc.spec}})
			s.runUntil(t0.Add(tc.end))
			var got []Transition
			for _, tr := range s.trs {
				got = append(got, Transition{ID: tr.ID, Up: tr.Up, At: tr.At})
			}
			var want []Transition
			if tc.wantDown > 0 {
				want = append(want, Transition{ID: "a", Up: false, At: t0.Add(tc.wantDown)})
			}
			if tc.wantUp > 0 {
				want = append(want, Transition{ID: "a", Up: true, At: t0.Add(tc.wantUp)})
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("transitions (-want +got):\n%s", d)
			}
			// The bound the issue asks for: a failure is detected within
			// interval x (retry + 1) + timeout of its start.
			if tc.wantDown > 0 {
				bound := tc.spec.Interval*time.Duration(tc.spec.Retry+1) + tc.spec.Timeout
				if lag := tc.wantDown - tc.failAt; lag > bound {
					t.Errorf("down detected %s after the failure, bound %s", lag, bound)
				}
			}
		})
	}
}

func TestEngineAlphaAndInitialState(t *testing.T) {
	s := newSim(t, nil)
	alpha := tcpSpec(time.Second, 1, 3)
	alpha.Alpha = true
	s.e.set(t0, map[ID][]Spec{"alpha": {alpha}, "plain": {tcpSpec(time.Second, 1, 3)}})
	if s.e.targets["alpha"].up || !s.e.targets["plain"].up {
		t.Fatalf("initial states: alpha up=%v plain up=%v, want false, true", s.e.targets["alpha"].up, s.e.targets["plain"].up)
	}
	s.runUntil(t0.Add(5 * time.Second))
	// Alpha: down until Rise (3) successes at 0, 1, 2 s. Plain: no transition.
	want := []Transition{{ID: "alpha", Up: true, At: t0.Add(2 * time.Second)}}
	if d := cmp.Diff(want, s.trs, cmpIgnoreReason); d != "" {
		t.Errorf("transitions (-want +got):\n%s", d)
	}
}

var cmpIgnoreReason = cmp.Transformer("noReason", func(tr Transition) Transition { tr.Reason = ""; return tr })

func TestEngineAllChecksMustPass(t *testing.T) {
	s := newSim(t, nil)
	a, b := tcpSpec(time.Second, 1, 1), tcpSpec(time.Second, 1, 1)
	b.Kind = KindHTTP
	s.e.set(t0, map[ID][]Spec{"x": {a, b}})
	// Check 1 fails during [3s, 6s); check 0 always passes.
	s.outcome = func(_ ID, idx int, at time.Time) error {
		if idx == 1 && !at.Before(t0.Add(3*time.Second)) && at.Before(t0.Add(6*time.Second)) {
			return errDown
		}
		return nil
	}
	s.runUntil(t0.Add(10 * time.Second))
	want := []Transition{
		{ID: "x", Up: false, At: t0.Add(3 * time.Second)},
		{ID: "x", Up: true, At: t0.Add(6 * time.Second)},
	}
	if d := cmp.Diff(want, s.trs, cmpIgnoreReason); d != "" {
		t.Errorf("transitions (-want +got):\n%s", d)
	}
	if r := s.trs[0].Reason; r != "http check failed 1 time(s) in a row: "+errDown.Error() {
		t.Errorf("down reason = %q", r)
	}
}

func TestEngineWarmupJitter(t *testing.T) {
	var draws []int64
	rnd := func(n int64) int64 { draws = append(draws, n); return n * int64(len(draws)) / 10 }
	s := newSim(t, rnd)
	sp := tcpSpec(time.Second, 1, 1)
	sp.Warmup = 500 * time.Millisecond
	s.e.set(t0, map[ID][]Spec{"1": {on(sp, 1)}, "2": {on(sp, 2)}, "3": {on(sp, 3)}})
	if len(draws) != 3 || draws[0] != int64(sp.Warmup) {
		t.Fatalf("rand draws = %v, want 3 draws bounded by %d", draws, sp.Warmup)
	}
	firsts := map[time.Time]bool{}
	for _, tg := range s.e.targets {
		p := tg.probes[0]
		if p.next.Before(t0) || p.next.After(t0.Add(sp.Warmup)) {
			t.Errorf("first check at %s, want within warm-up", p.next.Sub(t0))
		}
		firsts[p.next] = true
	}
	if len(firsts) != 3 {
		t.Errorf("first checks not spread: %v", firsts)
	}
}

func TestEngineSetReload(t *testing.T) {
	s := newSim(t, nil)
	sp := tcpSpec(10*time.Second, 1, 2)
	s.outcome = failFrom(t0, time.Time{})
	keepSp, changeSp, goneSp := on(sp, 1), on(sp, 2), on(sp, 3)
	s.e.set(t0, map[ID][]Spec{"keep": {keepSp}, "change": {changeSp}, "gone": {goneSp}})
	s.runUntil(t0.Add(15 * time.Second)) // all fail at 0 and 10 s: down
	for _, id := range []ID{"keep", "change", "gone"} {
		if s.e.targets[id].up {
			t.Fatalf("%s still up", id)
		}
	}
	keep := s.e.targets["keep"].probes[0]
	keepNext := keep.next
	gone := s.e.targets["gone"].probes[0]

	changed := changeSp
	changed.Timeout = 2 * time.Second
	fresh := on(sp, 4)
	fresh.Alpha = true
	// "new2" checks the same server as "keep", the same way: it shares
	// keep's probe and takes its state (down) at once.
	r := s.e.set(s.now, map[ID][]Spec{"keep": {keepSp}, "change": {changed}, "new": {fresh}, "new2": {keepSp}})
	want := setResult{added: []ID{"new", "new2"}, changed: []ID{"change"}, removed: []ID{"gone"},
		transitions: []Transition{{ID: "new2", Up: false, At: s.now}}}
	if d := cmp.Diff(want, r, cmp.AllowUnexported(setResult{}), sortIDs, cmpIgnoreReason); d != "" {
		t.Errorf("set result (-want +got):\n%s", d)
	}
	if p := s.e.targets["keep"].probes[0]; p != keep || p.next != keepNext || p.fails != 2 {
		t.Errorf("unchanged target lost its state: same=%v next=%s fails=%d", p == keep, p.next.Sub(t0), p.fails)
	}
	ch := s.e.targets["change"]
	if ch.up || ch.probes[0].up || ch.probes[0].fails != 0 || !ch.probes[0].next.Equal(s.now) {
		t.Errorf("changed target: up=%v probe up=%v fails=%d next=%s; want down, restarted now",
			ch.up, ch.probes[0].up, ch.probes[0].fails, ch.probes[0].next.Sub(t0))
	}
	if !gone.removed || gone.qidx != -1 {
		t.Errorf("removed target still queued")
	}
	if s.e.targets["new"].up || s.e.targets["new2"].up {
		t.Errorf("new targets: alpha up=%v sharing a down probe up=%v; want false, false", s.e.targets["new"].up, s.e.targets["new2"].up)
	}
	if p := s.e.targets["new2"].probes[0]; p != keep || len(s.e.probes) != 3 {
		t.Errorf("new2 does not share keep's probe (same=%v), %d probes, want 3", p == keep, len(s.e.probes))
	}
	// A stale result of the removed target is ignored.
	// "new2" has the same check as "keep": they share one probe.
	if tr, _ := s.e.result(gone, s.now, 0, nil, dynWeight{}); tr != nil || len(s.e.queue) != 3 {
		t.Errorf("stale result: tr=%v queue=%d", tr, len(s.e.queue))
	}
	// The changed target comes back only after Rise successes of its new check.
	s.trs = nil
	s.outcome = func(ID, int, time.Time) error { return nil }
	s.runUntil(s.now.Add(25 * time.Second))
	var ups []ID
	for _, tr := range s.trs {
		if tr.Up {
			ups = append(ups, tr.ID)
		}
	}
	if d := cmp.Diff([]ID{"change", "keep", "new", "new2"}, ups, sortIDs); d != "" {
		t.Errorf("up transitions (-want +got):\n%s", d)
	}
}

var sortIDs = cmp.Transformer("sortIDs", func(in []ID) []ID {
	out := append([]ID(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestEngineSlowCheckKeepsRate(t *testing.T) {
	s := newSim(t, nil)
	s.latency = 300 * time.Millisecond
	s.e.set(t0, map[ID][]Spec{"a": {tcpSpec(time.Second, 1, 1)}})
	s.runUntil(t0.Add(10*time.Second - time.Millisecond))
	if n := len(s.runs["a"]); n != 10 {
		t.Errorf("%d checks in 10 s at a 1 s interval with 300 ms latency, want 10 (fixed rate)", n)
	}
}

func TestEngineInFlightLimit(t *testing.T) {
	s := newSim(t, nil)
	s.e.limit = 2
	sp := tcpSpec(time.Second, 1, 1)
	s.e.set(t0, map[ID][]Spec{"a": {on(sp, 1)}, "b": {on(sp, 2)}, "c": {on(sp, 3)}})
	first := s.e.due(t0, t0)
	if len(first) != 2 || !s.e.capped {
		t.Fatalf("due under a limit of 2: %d probes, capped=%v", len(first), s.e.capped)
	}
	if more := s.e.due(t0, t0); len(more) != 0 {
		t.Fatalf("due while full: %d probes", len(more))
	}
	if _, rearm := s.e.result(first[0], t0, 0, nil, dynWeight{}); !rearm {
		t.Errorf("a finished check under a full limit did not ask to re-arm")
	}
	if next := s.e.due(t0, t0); len(next) != 1 || s.e.inflight != 2 {
		t.Errorf("after one finished: %d due, %d in flight; want 1, 2", len(next), s.e.inflight)
	}
}

// TestEngineSharedProbes: 100 services sharing 4 real servers, checked the
// same way, run 4 probes, and each result fans out to the 100 services of
// its server (issue: identical checks run once).
func TestEngineSharedProbes(t *testing.T) {
	const services, reals = 100, 4
	s := newSim(t, nil)
	sp := tcpSpec(time.Second, 1, 1)
	want := map[ID][]Spec{}
	for v := range services {
		for r := range reals {
			want[ID(fmt.Sprintf("vs%d/r%d", v, r))] = []Spec{on(sp, uint16(8000+r))}
		}
	}
	s.e.set(t0, want)
	if n := len(s.e.probes); n != reals {
		t.Fatalf("%d probes for %d services x %d reals, want %d", n, services, reals, reals)
	}
	// Real server 2 (port 8002) fails from 3 s on.
	failing := s.e.targets["vs0/r2"].probes[0]
	s.outcome = func(id ID, _ int, at time.Time) error {
		if s.e.targets[id].probes[0] == failing && !at.Before(t0.Add(3*time.Second)) {
			return errDown
		}
		return nil
	}
	s.runUntil(t0.Add(10*time.Second - time.Millisecond))
	probesRun := 0
	for _, runs := range s.runs {
		probesRun += len(runs)
	}
	t.Logf("%d targets, %d probes, %d probe runs in 10 s", len(want), len(s.e.probes), probesRun)
	if probesRun != reals*10 {
		t.Errorf("%d probe runs in 10 s at 1 s, want %d (one per real server per interval)", probesRun, reals*10)
	}
	downs := map[ID]bool{}
	for _, tr := range s.trs {
		if tr.Up || !tr.At.Equal(t0.Add(3*time.Second)) {
			t.Errorf("unexpected transition %+v", tr)
		}
		downs[tr.ID] = true
	}
	if len(downs) != services {
		t.Errorf("%d services saw real server 2 go down, want %d", len(downs), services)
	}
	for v := range services {
		if !downs[ID(fmt.Sprintf("vs%d/r2", v))] {
			t.Errorf("vs%d/r2 not down", v)
		}
	}
	// Dropping all but one service keeps the probes and their state;
	// dropping the last drops them.
	keep := map[ID][]Spec{}
	for r := range reals {
		keep[ID(fmt.Sprintf("vs7/r%d", r))] = want[ID(fmt.Sprintf("vs7/r%d", r))]
	}
	s.e.set(s.now, keep)
	if p := s.e.targets["vs7/r2"].probes[0]; p != failing || p.up || len(s.e.probes) != reals {
		t.Errorf("after removing 99 services: same probe=%v up=%v probes=%d", p == failing, p.up, len(s.e.probes))
	}
	s.e.set(s.now, nil)
	if len(s.e.probes) != 0 || len(s.e.queue) != 0 || !failing.removed {
		t.Errorf("after removing every service: %d probes, %d queued, removed=%v", len(s.e.probes), len(s.e.queue), failing.removed)
	}
}

// TestEngineDiscardRetriesThenCounts: a result discarded because the
// checker stalled leaves the state alone and retries at once, at most
// maxStallRetries times in a row; then the timeout counts.
func TestEngineDiscardRetriesThenCounts(t *testing.T) {
	s := newSim(t, nil)
	s.e.set(t0, map[ID][]Spec{"a": {tcpSpec(10*time.Second, 1, 1)}})
	now := t0
	for i := range maxStallRetries {
		ps := s.e.due(now, now)
		if len(ps) != 1 {
			t.Fatalf("round %d: %d due", i, len(ps))
		}
		ok, _ := s.e.discard(ps[0], now)
		if !ok || !ps[0].up || ps[0].fails != 0 || !ps[0].next.Equal(now) || s.e.inflight != 0 {
			t.Fatalf("discard %d: ok=%v up=%v fails=%d next=%s inflight=%d; want retried now, state kept",
				i, ok, ps[0].up, ps[0].fails, ps[0].next.Sub(now), s.e.inflight)
		}
		now = now.Add(time.Second)
	}
	p := s.e.due(now, now)[0]
	if ok, _ := s.e.discard(p, now); ok {
		t.Fatalf("discard allowed past %d in a row", maxStallRetries)
	}
	trs, _ := s.e.result(p, now, time.Second, errDown, dynWeight{})
	if len(trs) != 1 || trs[0].Up || p.stalls != 0 {
		t.Errorf("after the cap the failure counts: transitions %+v, stalls %d", trs, p.stalls)
	}
}

func TestEngineInFlightLimitBacksOffAndGrows(t *testing.T) {
	tests := []struct {
		name                  string
		max, inflight         int
		afterStall, afterGrow int // limit after one stall, then after that many clean results
	}{
		{"from what runs", 1024, 300, 150, 300},
		{"floor", 1024, 3, minInFlight / 2 * 2, 2 * minInFlight},
		{"capped growth", 100, 150, 50, 100},
		{"bound below the floor", 4, 4, 4, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(nil, nil, tc.max)
			e.inflight = tc.inflight
			e.backOff()
			if e.limit != tc.afterStall {
				t.Fatalf("after a stall with %d running: limit %d, want %d", tc.inflight, e.limit, tc.afterStall)
			}
			for range e.limit {
				e.grow()
			}
			if e.limit != tc.afterGrow {
				t.Errorf("after clean results: limit %d, want %d", e.limit, tc.afterGrow)
			}
		})
	}
}

// Checks that differ only in their address share one shape (their
// settings, held once); checks that differ in any setting, the device
// included, are different probes; a shape goes with its last probe.
func TestEngineShapes(t *testing.T) {
	s := newSim(t, nil)
	a, b := netip.MustParseAddrPort("10.0.0.1:80"), netip.MustParseAddrPort("10.0.0.2:80")
	spec := func(ap netip.AddrPort) Spec { return Spec{Kind: KindTCP, Target: ap, Interval: time.Second} }
	onDev := spec(a)
	onDev.BindIf = "eth1"
	explicit := spec(b)
	explicit.Timeout = DefaultTimeout // the default spelt out: the same check
	s.e.set(t0, map[ID][]Spec{"vs1/a": {spec(a)}, "vs1/b": {spec(b)}, "vs2/a": {onDev}})
	if len(s.e.shapes) != 2 || len(s.e.probes) != 3 {
		t.Fatalf("shapes %d, probes %d; want 2 and 3", len(s.e.shapes), len(s.e.probes))
	}
	if pa, pb := s.e.targets["vs1/a"].probes[0], s.e.targets["vs1/b"].probes[0]; pa.shape != pb.shape || pa.target != a || pb.target != b {
		t.Errorf("vs1's checks: shapes %p, %p; targets %s, %s", pa.shape, pb.shape, pa.target, pb.target)
	}
	keep := s.e.targets["vs1/b"].probes[0]
	r := s.e.set(t0, map[ID][]Spec{"vs1/b": {explicit}})
	if len(r.changed) != 0 || s.e.targets["vs1/b"].probes[0] != keep {
		t.Errorf("an explicit default changed the target: %+v", r)
	}
	if len(s.e.shapes) != 1 || len(s.e.probes) != 1 {
		t.Errorf("after removals: shapes %d, probes %d; want 1 and 1", len(s.e.shapes), len(s.e.probes))
	}
	s.e.set(t0, nil)
	if len(s.e.shapes) != 0 || len(s.e.probes) != 0 || len(s.e.queue) != 0 {
		t.Errorf("empty: shapes %d, probes %d, queued %d", len(s.e.shapes), len(s.e.probes), len(s.e.queue))
	}
}

// The HTTPS checks of one shape share their regex, dialer and TLS
// configuration; each has its own request and URL.
func TestHTTPCheckersShareShape(t *testing.T) {
	sh := &shape{spec: Spec{Kind: KindHTTPS, Timeout: time.Second,
		HTTP: &HTTPSpec{Path: "/health", Host: "svc.example", Regex: "ok"}}.WithDefaults()}
	a, err := newShaped(sh, netip.MustParseAddrPort("10.0.0.1:443"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := newShaped(sh, netip.MustParseAddrPort("10.0.0.2:443"))
	if err != nil {
		t.Fatal(err)
	}
	ha, hb := a.(*httpChecker), b.(*httpChecker)
	if ha.sh != hb.sh || ha.sh.re == nil || ha.get.tls == nil || ha.get.tls != hb.get.tls || ha.get.dialer != hb.get.dialer {
		t.Errorf("not shared: shapes %p %p, TLS %p %p, dialers %p %p", ha.sh, hb.sh, ha.get.tls, hb.get.tls, ha.get.dialer, hb.get.dialer)
	}
	if ha.get.url == hb.get.url || ha.get.tls.ServerName != "svc.example" {
		t.Errorf("URLs %q %q, server name %q", ha.get.url, hb.get.url, ha.get.tls.ServerName)
	}
}
