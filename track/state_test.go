package track

import (
	"testing"
	"time"
)

func TestContribute(t *testing.T) {
	script := Key{KindScript, "s"}
	file := Key{KindFile, "f"}
	cases := []struct {
		name  string
		ref   Ref
		state State
		want  Contribution
	}{
		{"positive weight, passing adds", Ref{Key: script, Weight: 10}, State{Known: true, OK: true}, Contribution{Delta: 10}},
		{"positive weight, failing adds nothing", Ref{Key: script, Weight: 10}, State{Known: true}, Contribution{}},
		{"negative weight, failing lowers", Ref{Key: script, Weight: -50}, State{Known: true}, Contribution{Delta: -50}},
		{"negative weight, passing nothing", Ref{Key: script, Weight: -50}, State{Known: true, OK: true}, Contribution{}},
		{"zero weight, failing faults", Ref{Key: script, Weight: 0}, State{Known: true}, Contribution{Fault: true}},
		{"zero weight, passing fine", Ref{Key: script, Weight: 0}, State{Known: true, OK: true}, Contribution{}},
		{"unknown counts as passing", Ref{Key: script, Weight: 5}, State{}, Contribution{Delta: 5}},
		{"unknown with zero weight no fault", Ref{Key: script, Weight: 0}, State{}, Contribution{}},
		{"file value times weight", Ref{Key: file, Weight: 3}, State{Known: true, Value: 5}, Contribution{Delta: 15}},
		{"file negative weight", Ref{Key: file, Weight: -1}, State{Known: true, Value: 20}, Contribution{Delta: -20}},
		{"file capped at 253", Ref{Key: file, Weight: 100}, State{Known: true, Value: 5}, Contribution{Delta: 253}},
		{"file -254 faults", Ref{Key: file, Weight: -2}, State{Known: true, Value: 127}, Contribution{Fault: true}},
		{"file weight 0 non-zero faults", Ref{Key: file, Weight: 0}, State{Known: true, Value: 1}, Contribution{Fault: true}},
		{"file weight 0 zero fine", Ref{Key: file, Weight: 0}, State{Known: true}, Contribution{}},
		{"file huge value does not overflow", Ref{Key: file, Weight: 254}, State{Known: true, Value: -1 << 31}, Contribution{Fault: true}},
		// keepalived's "weight N reverse".
		{"reverse positive, passing lowers", Ref{Key: script, Weight: 10, Reverse: true}, State{Known: true, OK: true}, Contribution{Delta: -10}},
		{"reverse positive, failing nothing", Ref{Key: script, Weight: 10, Reverse: true}, State{Known: true}, Contribution{}},
		{"reverse negative, failing raises", Ref{Key: script, Weight: -50, Reverse: true}, State{Known: true}, Contribution{Delta: 50}},
		{"reverse negative, passing nothing", Ref{Key: script, Weight: -50, Reverse: true}, State{Known: true, OK: true}, Contribution{}},
		{"reverse zero, passing faults", Ref{Key: script, Weight: 0, Reverse: true}, State{Known: true, OK: true}, Contribution{Fault: true}},
		{"reverse zero, failing fine", Ref{Key: script, Weight: 0, Reverse: true}, State{Known: true}, Contribution{}},
		{"reverse file negates", Ref{Key: file, Weight: 3, Reverse: true}, State{Known: true, Value: 5}, Contribution{Delta: -15}},
		{"reverse file -254 faults", Ref{Key: file, Weight: 2, Reverse: true}, State{Known: true, Value: 127}, Contribution{Fault: true}},
		{"reverse file weight 0, zero faults", Ref{Key: file, Weight: 0, Reverse: true}, State{Known: true}, Contribution{Fault: true}},
		{"reverse file weight 0, non-zero fine", Ref{Key: file, Weight: 0, Reverse: true}, State{Known: true, Value: 1}, Contribution{}},
		// init_fail: unknown counts as failed.
		{"init_fail unknown counts as failing", Ref{Key: script, Weight: -20, InitFail: true}, State{}, Contribution{Delta: -20}},
		{"init_fail unknown, weight 0 faults", Ref{Key: script, Weight: 0, InitFail: true}, State{}, Contribution{Fault: true}},
		{"init_fail known passing", Ref{Key: script, Weight: 5, InitFail: true}, State{Known: true, OK: true}, Contribution{Delta: 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.state.Key = c.ref.Key
			if got := Contribute(c.ref, c.state); got != c.want {
				t.Errorf("Contribute(%+v, %+v) = %+v, want %+v", c.ref, c.state, got, c.want)
			}
		})
	}
}

func TestEffectSums(t *testing.T) {
	a, b, c := Key{KindScript, "a"}, Key{KindFile, "b"}, Key{KindProcess, "c"}
	states := map[Key]State{
		a: {Key: a, Known: true, OK: false},
		b: {Key: b, Known: true, Value: 2},
		c: {Key: c, Known: true, OK: true},
	}
	got := Effect([]Ref{{Key: a, Weight: -20}, {Key: b, Weight: 5}, {Key: c, Weight: 7}, {Key: Key{KindScript, "absent"}, Weight: 3}}, states)
	if want := (Contribution{Delta: -20 + 10 + 7 + 3}); got != want {
		t.Errorf("Effect = %+v, want %+v", got, want)
	}
	states[c] = State{Key: c, Known: true}
	if got := Effect([]Ref{{Key: c, Weight: 0}, {Key: a, Weight: -20}}, states); !got.Fault {
		t.Errorf("Effect with a failed weight-0 process = %+v, want fault", got)
	}
}

func TestHysteresis(t *testing.T) {
	cases := []struct {
		name       string
		rise, fall int
		results    string // p pass, f fail
		want       string // state after each: O ok, F failed
	}{
		{"fall 1 rise 1", 1, 1, "pfpf", "OFOF"},
		{"fall 3", 1, 3, "ffpfff", "OOOOOF"},
		{"rise 2 after fall", 2, 1, "fppfpp", "FFOFFO"},
		{"interrupted rise", 3, 2, "ffppfppp", "OFFFFFFO"},
		{"zero means one", 0, 0, "fp", "FO"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := Hysteresis{Rise: c.rise, Fall: c.fall}
			var got []byte
			for _, r := range c.results {
				h.Observe(r == 'p')
				got = append(got, "OF"[b2i(h.Failed)])
			}
			if string(got) != c.want {
				t.Errorf("after %s: %s, want %s", c.results, got, c.want)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestProcessStateDelay(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		ms      int
		count   int // -1: a Tick only
		failed  bool
		changed bool
	}
	cases := []struct {
		name      string
		quorum    int
		quorumMax int
		delay     time.Duration
		steps     []step
	}{
		{"first count decides at once", 1, 0, time.Second, []step{{0, 0, true, true}}},
		{"no delay", 2, 0, 0, []step{{0, 2, false, false}, {10, 1, true, true}, {20, 2, false, true}}},
		{"delay both ways", 1, 0, 500 * time.Millisecond, []step{
			{0, 1, false, false}, {100, 0, false, false}, {599, -1, false, false}, {600, -1, true, true},
			{700, 1, true, false}, {1000, 0, true, false}, {1100, 1, true, false}, {1599, -1, true, false}, {1600, -1, false, true},
		}},
		{"bounce within delay never fails", 1, 0, time.Second, []step{
			{0, 1, false, false}, {100, 0, false, false}, {200, 1, false, false}, {2000, -1, false, false},
		}},
		{"quorum max", 1, 2, 0, []step{{0, 2, false, false}, {10, 3, true, true}, {20, 1, false, true}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := ProcessState{Quorum: c.quorum, QuorumMax: c.quorumMax, Delay: c.delay}
			for _, s := range c.steps {
				var ch bool
				if s.count < 0 {
					ch = p.Tick(at(s.ms))
				} else {
					ch = p.Observe(s.count, at(s.ms))
				}
				if p.Failed != s.failed || ch != s.changed {
					t.Fatalf("at %dms (count %d): failed=%v changed=%v, want %v %v", s.ms, s.count, p.Failed, ch, s.failed, s.changed)
				}
			}
		})
	}
}

// keepalived's param_match: partial compares the first words of the
// command line, initial its beginning (the last word may be longer).
func TestProcessParamMatch(t *testing.T) {
	cases := []struct {
		m    ParamMatch
		args string
		want bool
	}{
		{ParamExact, "/usr/sbin/haproxy -f /etc/haproxy.cfg", true},
		{ParamExact, "/usr/sbin/haproxy -f /etc/haproxy.cfg -D", false},
		{ParamPartial, "/usr/sbin/haproxy -f /etc/haproxy.cfg", true},
		{ParamPartial, "/usr/sbin/haproxy -f /etc/haproxy.cfg -D", true},
		{ParamPartial, "/usr/sbin/haproxy -f /etc/haproxy.cfg.new", false},
		{ParamPartial, "/usr/sbin/haproxy -f", false},
		{ParamInitial, "/usr/sbin/haproxy -f /etc/haproxy.cfg.new", true},
		{ParamInitial, "/usr/sbin/haproxy -f /etc/haproxy.cfg -D", true},
		{ParamInitial, "/usr/sbin/haproxy -f /etc/hap", false},
	}
	for _, c := range cases {
		s := Process{Match: "/usr/sbin/haproxy -f /etc/haproxy.cfg", Args: true, ParamMatch: c.m}
		if got := s.matches(proc{comm: "haproxy", args: c.args}); got != c.want {
			t.Errorf("%s match of %q: %v, want %v", c.m, c.args, got, c.want)
		}
	}
}
