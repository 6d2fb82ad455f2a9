package track

import (
	"fmt"
	"time"
)

// Kind says what a tracker watches.
type Kind uint8

// Tracker kinds.
const (
	KindInvalid Kind = iota
	KindScript
	KindFile
	KindProcess
)

// String returns the configuration block name of the kind.
func (k Kind) String() string {
	switch k {
	case KindScript:
		return "vrrp_script"
	case KindFile:
		return "track_file"
	case KindProcess:
		return "track_process"
	}
	return "invalid"
}

// Key names one tracker of a configuration.
type Key struct {
	Kind Kind
	Name string
}

// String returns "kind name".
func (k Key) String() string { return fmt.Sprintf("%s %q", k.Kind, k.Name) }

// State is a tracker's current verdict.
type State struct {
	Key Key
	// Known is false until the first result; an unknown tracker counts as
	// OK, as keepalived starts scripts in the OK state.
	Known bool
	OK    bool
	// Value is a track_file's integer or a track_process's process count.
	Value int
	// Last describes the last result ("exit 0 in 3ms", "timed out after 1s",
	// "2 processes", "value 5").
	Last string
	At   time.Time // when Last was observed
	// Since is when OK last changed (zero: never).
	Since time.Time
}

// Ref is an instance's use of a tracker, with its weight resolved (the
// instance's override, else the tracker's own).
type Ref struct {
	Key    Key
	Weight int
	// Reverse turns the adjustment around, as keepalived's "weight N
	// reverse": a positive weight is taken off while the tracker passes, a
	// negative one added while it fails, weight 0 faults while it passes,
	// and a track_file's value × weight is negated.
	Reverse bool
	// InitFail counts the tracker as failed until its first result (a
	// vrrp_script's init_fail); otherwise an unknown tracker passes.
	InitFail bool
}

// Contribution is what one tracker adds to an instance's priority.
type Contribution struct {
	Delta int
	Fault bool
}

// Contribute applies keepalived's weight rules to one tracker state.
func Contribute(r Ref, s State) Contribution {
	sign := int64(1)
	if r.Reverse {
		sign = -1
	}
	if r.Key.Kind == KindFile {
		v := s.Value
		if r.Weight == 0 {
			return Contribution{Fault: (v != 0) != r.Reverse}
		}
		p := int64(v) * int64(r.Weight) * sign
		switch {
		case p <= -254:
			return Contribution{Fault: true}
		case p > 253:
			p = 253
		}
		return Contribution{Delta: int(p)}
	}
	ok := s.OK
	if !s.Known {
		ok = !r.InitFail
	}
	switch {
	case r.Weight == 0:
		return Contribution{Fault: ok == r.Reverse}
	case r.Weight > 0 && ok:
		return Contribution{Delta: r.Weight * int(sign)}
	case r.Weight < 0 && !ok:
		return Contribution{Delta: r.Weight * int(sign)}
	}
	return Contribution{}
}

// Effect sums the contributions of an instance's trackers: the priority
// delta (the VRRP instance clamps the result to 1..254) and whether any
// tracker puts it in FAULT. Trackers absent from states count as unknown.
func Effect(refs []Ref, states map[Key]State) Contribution {
	var out Contribution
	for _, r := range refs {
		s, ok := states[r.Key]
		if !ok {
			s = State{Key: r.Key}
		}
		c := Contribute(r, s)
		out.Delta += c.Delta
		out.Fault = out.Fault || c.Fault
	}
	return out
}

// Hysteresis is a vrrp_script's rise/fall counter: fall failures in a row
// turn an OK script failed, rise successes in a row turn a failed one OK.
// The zero value with Rise and Fall set starts OK, as keepalived's scripts do.
type Hysteresis struct {
	Rise, Fall int
	Failed     bool
	run        int // results in a row contradicting the current state
}

// Observe records one result and reports whether the state changed.
func (h *Hysteresis) Observe(ok bool) bool {
	if ok != h.Failed { // agrees with the current state
		h.run = 0
		return false
	}
	h.run++
	need := max(h.Fall, 1)
	if h.Failed {
		need = max(h.Rise, 1)
	}
	if h.run < need {
		return false
	}
	h.Failed, h.run = !h.Failed, 0
	return true
}

// ProcessState is a track_process's quorum with delay: the tracker turns
// failed when fewer than Quorum (or more than QuorumMax, when set) matching
// processes have run for Delay, and OK when the count has been within
// bounds for Delay. The first count decides the state at once.
type ProcessState struct {
	Quorum, QuorumMax int
	Delay             time.Duration
	Failed            bool
	Count             int
	seen              bool      // the first count decides at once
	pending           time.Time // when the count started contradicting the state
}

func (p *ProcessState) within(n int) bool {
	return n >= max(p.Quorum, 1) && (p.QuorumMax == 0 || n <= p.QuorumMax)
}

// Observe records the current count at now and reports whether the state
// changed. Call Tick at Next to let a pending delay expire.
func (p *ProcessState) Observe(n int, now time.Time) bool {
	p.Count = n
	if !p.seen {
		p.seen = true
		changed := p.Failed == p.within(n)
		p.Failed = !p.within(n)
		return changed
	}
	if p.within(n) != p.Failed {
		p.pending = time.Time{}
		return false
	}
	if p.pending.IsZero() {
		p.pending = now
	}
	return p.Tick(now)
}

// Tick applies a pending change whose delay has run out.
func (p *ProcessState) Tick(now time.Time) bool {
	if p.pending.IsZero() || now.Before(p.pending.Add(p.Delay)) {
		return false
	}
	p.Failed, p.pending = !p.Failed, time.Time{}
	return true
}

// Next is when a pending change is due, or zero.
func (p *ProcessState) Next() time.Time {
	if p.pending.IsZero() {
		return time.Time{}
	}
	return p.pending.Add(p.Delay)
}
