package lvs

import "slices"

// QuorumState says whether a service's healthy real servers carry enough
// weight. Its zero value, QuorumUnknown, behaves like QuorumUp, as keepalived
// starts a virtual server with quorum up.
type QuorumState uint8

// Quorum states.
const (
	QuorumUnknown QuorumState = iota
	QuorumUp
	QuorumLost
)

// String returns "unknown", "up" or "lost".
func (q QuorumState) String() string { return enumString(q, quorumStateNames, "QuorumState") }

var quorumStateNames = map[QuorumState]string{QuorumUnknown: "unknown", QuorumUp: "up", QuorumLost: "lost"}

// Real is one configured real server and what its health checks say.
type Real struct {
	Dest    Destination // configured settings; Weight is the configured weight
	Healthy bool
	// Inhibit keeps a failed server in the table at weight 0 instead of
	// removing it (keepalived's inhibit_on_failure): its established
	// connections drain.
	Inhibit bool
}

// Pool is the real-server side of one virtual service, with keepalived's
// quorum semantics.
type Pool struct {
	Reals []Real
	// Sorry is the sorry server, used while quorum is lost; nil for none.
	Sorry *Destination
	// SorryInhibit keeps the sorry server in the table at weight 0 while
	// quorum is up (keepalived's sorry_server_inhibit).
	SorryInhibit bool
	// Quorum is the minimum total weight of healthy real servers; zero or
	// less means 1, keepalived's default.
	Quorum int
	// Hysteresis damps flapping: quorum is lost below Quorum-Hysteresis
	// (or when no weight is left) and regained at Quorum+Hysteresis.
	Hysteresis int
}

// Destinations computes the destinations a service should have from its configured
// real servers and their health, and the new quorum state given the previous
// one. Weights are the single knob: a healthy server has its configured
// weight, a failed one weight 0 if Inhibit or is absent otherwise. While
// quorum is lost and a sorry server is configured, the sorry server is in
// and the real servers are out (weight 0 if Inhibit); without a sorry server
// the healthy ones stay. The result is sorted by key.
func (p Pool) Destinations(prev QuorumState) ([]Destination, QuorumState) {
	quorum := max(p.Quorum, 1)
	sum := 0
	for _, r := range p.Reals {
		if r.Healthy {
			sum += max(r.Dest.Weight, 0)
		}
	}
	state := prev
	switch prev {
	case QuorumLost:
		if sum > 0 && sum >= quorum+p.Hysteresis {
			state = QuorumUp
		}
	default:
		state = QuorumUp
		if sum == 0 || sum < quorum-p.Hysteresis {
			state = QuorumLost
		}
	}
	sorryIn := state == QuorumLost && p.Sorry != nil
	// Room for exactly what can come out: a desired table holds one
	// such slice per service for as long as it runs, and a spare
	// Destination in each is a quarter more for a service of 4.
	n := len(p.Reals)
	if p.Sorry != nil {
		n++
	}
	out := make([]Destination, 0, n)
	for _, r := range p.Reals {
		d := r.Dest
		switch {
		case r.Healthy && !sorryIn:
		case r.Inhibit:
			d.Weight = 0
		default:
			continue
		}
		out = append(out, d)
	}
	if p.Sorry != nil && (sorryIn || p.SorryInhibit) {
		d := *p.Sorry
		if !sorryIn {
			d.Weight = 0
		} else if d.Weight <= 0 {
			d.Weight = 1
		}
		out = slices.DeleteFunc(out, func(x Destination) bool { return x.Key() == d.Key() })
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Destination) int { return a.Key().Compare(b.Key()) })
	return out, state
}
