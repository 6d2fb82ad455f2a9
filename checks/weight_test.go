package checks

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// keepalived's misc_dynamic: exit 0 passes at the configured weight, 1
// fails, 2-255 passes and sets the weight to status − 2; without it any
// status but 0 fails.
func TestScriptDynamicWeight(t *testing.T) {
	noLeaks(t)
	tests := []struct {
		code    string
		dynamic bool
		w       int
		set     bool
		fails   bool
	}{
		{"0", true, 0, false, false},
		{"1", true, 0, false, true},
		{"2", true, 0, true, false},
		{"12", true, 10, true, false},
		{"255", true, 253, true, false},
		{"12", false, 0, false, true},
		{"0", false, 0, false, false},
	}
	for _, tc := range tests {
		c := mustNew(t, Spec{Kind: KindScript, Timeout: 5 * time.Second,
			Script: &ScriptSpec{Argv: []string{"/bin/sh", "-c", "exit " + tc.code}, Dynamic: tc.dynamic}})
		w, set, err := c.(Weigher).CheckWeight(t.Context())
		if w != tc.w || set != tc.set || (err != nil) != tc.fails {
			t.Errorf("exit %s dynamic=%v: weight %d set %v err %v; want %d %v fails=%v", tc.code, tc.dynamic, w, set, err, tc.w, tc.set, tc.fails)
		}
		if err := c.Check(t.Context()); (err != nil) != tc.fails {
			t.Errorf("exit %s dynamic=%v: Check = %v", tc.code, tc.dynamic, err)
		}
	}
}

func TestWeightApply(t *testing.T) {
	tests := []struct {
		w          Weight
		configured int
		want       int
	}{
		{Weight{}, 5, 5},
		{Weight{Sets: 1, Sum: 10}, 5, 10},
		{Weight{Sets: 1, Sum: 0}, 5, 0},
		{Weight{Sets: 2, Sum: 30}, 5, 25}, // 5 + (10-5) + (20-5), keepalived's sum of offsets
		{Weight{Sets: 3, Sum: 0}, 5, 0},   // not below 0
		{Weight{Sets: 1, Sum: 300}, 5, 256},
	}
	for _, tc := range tests {
		if got := tc.w.Apply(tc.configured, 256); got != tc.want {
			t.Errorf("%+v.Apply(%d) = %d, want %d", tc.w, tc.configured, got, tc.want)
		}
	}
}

// The engine reports a weight change of an up target as a transition, and
// forgets the weight when the check fails.
func TestEngineDynamicWeight(t *testing.T) {
	s := newSim(t, nil)
	spec := Spec{Kind: KindScript, Interval: time.Second, Timeout: time.Second, Retry: 1, Rise: 1,
		Script: &ScriptSpec{Argv: []string{"/bin/true"}, Dynamic: true}}
	other := tcpSpec(time.Second, 1, 1)
	s.e.set(t0, map[ID][]Spec{"a": {spec, other}})
	p := s.e.targets["a"].probes[0]
	step := func(err error, dw dynWeight) []Transition {
		s.now = s.now.Add(time.Second)
		s.e.due(s.now, s.now)
		trs, _ := s.e.result(p, s.now, 0, err, dw)
		return trs
	}
	if trs := step(nil, dynWeight{}); len(trs) != 0 {
		t.Fatalf("exit 0 at the configured weight: %+v", trs)
	}
	trs := step(nil, dynWeight{w: 10, set: true})
	if len(trs) != 1 || !trs[0].Up || trs[0].Weight != (Weight{Sets: 1, Sum: 10}) {
		t.Fatalf("weight 10: %+v", trs)
	}
	if trs := step(nil, dynWeight{w: 10, set: true}); len(trs) != 0 {
		t.Fatalf("same weight again: %+v", trs)
	}
	if got := s.e.targets["a"].weight; got != (Weight{Sets: 1, Sum: 10}) {
		t.Errorf("target weight %+v", got)
	}
	trs = step(errDown, dynWeight{})
	if len(trs) != 1 || trs[0].Up || trs[0].Weight != (Weight{}) {
		t.Fatalf("failure: %+v", trs)
	}
	trs = step(nil, dynWeight{w: 3, set: true})
	if len(trs) != 1 || !trs[0].Up || trs[0].Weight != (Weight{Sets: 1, Sum: 3}) {
		t.Fatalf("back up at weight 3: %+v", trs)
	}
	trs = step(nil, dynWeight{})
	if len(trs) != 1 || !trs[0].Up || trs[0].Weight != (Weight{}) {
		t.Fatalf("exit 0 again, configured weight: %+v", trs)
	}
	// A target joining the running probe takes its weight at once.
	step(nil, dynWeight{w: 7, set: true})
	r := s.e.set(s.now, map[ID][]Spec{"a": {spec, other}, "b": {spec}})
	if len(r.transitions) != 1 || r.transitions[0].ID != "b" || r.transitions[0].Weight != (Weight{Sets: 1, Sum: 7}) {
		t.Errorf("joining target: %+v", r.transitions)
	}
}

// The mailbox keeps a weight change of an up target, and drops one that
// returns to what the consumer has.
func TestMailboxWeight(t *testing.T) {
	m, st := newMailbox(), new(sentState)
	m.reset(st, "a", true)
	m.put(Transition{ID: "a", Up: true, Weight: Weight{Sets: 1, Sum: 4}}, st)
	tr, ok := m.pop()
	if !ok || tr.Weight.Sum != 4 {
		t.Fatalf("pop = %+v, %v", tr, ok)
	}
	m.put(Transition{ID: "a", Up: true, Weight: Weight{Sets: 1, Sum: 9}}, st)
	m.put(Transition{ID: "a", Up: true, Weight: Weight{Sets: 1, Sum: 4}}, st)
	if tr, ok := m.pop(); ok {
		t.Errorf("a change back to what the consumer has was delivered: %+v", tr)
	}
}

// End to end: a misc_dynamic script's exit status reaches the consumer as
// the target's weight.
func TestSchedulerDynamicWeight(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	code := filepath.Join(dir, "code")
	os.WriteFile(code, []byte("22"), 0o644)
	s := NewScheduler(Options{Logger: testLogger(t)})
	startScheduler(t, s)
	spec := Spec{Kind: KindScript, Target: netip.MustParseAddrPort("192.0.2.1:80"), Interval: 20 * time.Millisecond,
		Timeout: 5 * time.Second, Script: &ScriptSpec{Argv: []string{"/bin/sh", "-c", "exit $(cat " + code + ")"}, Dynamic: true}}
	s.Set(map[ID][]Spec{"rs": {spec}})
	tr := await(t, s, "rs", true, 10*time.Second)
	if tr.Weight != (Weight{Sets: 1, Sum: 20}) {
		t.Fatalf("transition %+v, want weight 20", tr)
	}
	os.WriteFile(code, []byte("1"), 0o644)
	if tr := await(t, s, "rs", false, 10*time.Second); tr.Weight != (Weight{}) {
		t.Errorf("down with weight %+v", tr.Weight)
	}
}
