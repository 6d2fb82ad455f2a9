package bgp

import (
	"net/netip"
	"slices"
	"time"
)

// Status is the speaker as GoBGP reports it.
type Status struct {
	ASN       uint32
	RouterID  netip.Addr
	Neighbors []NeighborStatus // in configuration order
	Announced []RouteStatus    // GoBGP's locally originated routes, sorted by prefix
	// Running is false before Run and after it ended (GoBGP could not
	// start, or the speaker stopped: each neighbour's LastError says why).
	Running bool
}

// NeighborStatus is one session as GoBGP reports it.
type NeighborStatus struct {
	Address netip.Addr
	ASN     uint32
	// State is idle, connect, active, opensent, openconfirm or established.
	State  string
	Uptime time.Duration // time since the session was established; 0 when it is not
	// LastError is why the session last failed or could not be made (a
	// NOTIFICATION sent or received, a refused or timed-out connection,
	// an expired hold timer); "" when nothing failed since it was configured.
	LastError                    string
	MsgsSent, MsgsReceived       uint64
	UpdatesSent, UpdatesReceived uint64
	Received                     int // routes this neighbour sent (its Adj-RIB-In)
	Accepted                     int // of those, routes in GoBGP's RIB (havsd rejects every import: 0)
	Advertised                   int // routes GoBGP has sent this neighbour (its Adj-RIB-Out)
}

// RouteStatus is one route in GoBGP's local RIB.
type RouteStatus struct {
	Prefix           netip.Prefix
	NextHop          netip.Addr // zero = next hop self
	GracefulShutdown bool
	Communities      []string // every community on the route, "ASN:VALUE"
}

// Established says whether the session is up.
func (n NeighborStatus) Established() bool { return n.State == "established" }

// configStatus is the status of a speaker that is not running.
func configStatus(c Config, lastErr string) Status {
	st := Status{ASN: c.ASN, RouterID: c.RouterID}
	for _, n := range c.Neighbors {
		st.Neighbors = append(st.Neighbors, NeighborStatus{Address: n.Address, ASN: n.ASN, State: "idle", LastError: lastErr})
	}
	return st
}

func (s *Status) clone() Status {
	c := *s
	c.Neighbors = slices.Clone(s.Neighbors)
	c.Announced = slices.Clone(s.Announced)
	return c
}
