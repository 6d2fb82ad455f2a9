package director

import (
	"slices"
	"time"

	"github.com/havsd/havsd/bgp"
)

// BGPStatus is the BGP speaker and the announcement of each BGP VIP, as
// `havsd status --json` prints it (under "bgp", absent without a bgp block).
type BGPStatus struct {
	ASN      uint32 `json:"asn"`
	RouterID string `json:"router_id"`
	// Running is false when the speaker could not start (the log says why).
	Running   bool                `json:"running"`
	Neighbors []BGPNeighborStatus `json:"neighbors"`
	VIPs      []BGPVIPStatus      `json:"vips"`
	// Drain is set while havsd drain holds the routes withdrawn; Stopping
	// while a stopping director waits for its traffic to move.
	Drain    *BGPWaitStatus `json:"drain,omitempty"`
	Stopping *BGPWaitStatus `json:"stopping,omitempty"`
	// Loopback is the kernel's truth about the VIPs on the loopback.
	Loopback LoopbackStatus `json:"loopback"`
}

// BGPNeighborStatus is one BGP session, as the speaker reports it.
type BGPNeighborStatus struct {
	Address string `json:"address"`
	ASN     uint32 `json:"asn"`
	// State is the BGP FSM state: idle, connect, active, opensent,
	// openconfirm, established.
	State string `json:"state"`
	// UptimeSeconds is how long the session has been established (0 when
	// it is not).
	UptimeSeconds   float64 `json:"uptime_seconds"`
	LastError       string  `json:"last_error,omitempty"`
	MsgsSent        uint64  `json:"msgs_sent"`
	MsgsReceived    uint64  `json:"msgs_received"`
	UpdatesSent     uint64  `json:"updates_sent"`
	UpdatesReceived uint64  `json:"updates_received"`
	Accepted        int     `json:"accepted"` // prefixes accepted from the neighbour
}

// BGPVIPStatus is one VIP of the services announced by BGP.
type BGPVIPStatus struct {
	Prefix   string   `json:"prefix"`
	Services []string `json:"services"`
	// State is "announced", "withdrawn" or "graceful_shutdown" (announced
	// with the GRACEFUL_SHUTDOWN community while havsd stops), as decided.
	State  string    `json:"state"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since,omitzero"` // when State last changed
	// InSpeaker is set when the speaker's table (read back from it) holds
	// the route: it differs from State only for a moment, or while the
	// speaker fails.
	InSpeaker bool `json:"in_speaker"`
	// OnLoopback is set when the kernel holds the VIP on the loopback.
	OnLoopback bool `json:"on_loopback"`
}

// LoopbackStatus is what the loopback holds of the VIPs havsd puts there.
type LoopbackStatus struct {
	Device string `json:"device"`
	// Held are the wanted VIPs the kernel has; Missing those it lacks (put
	// back at once: non-empty only while that fails).
	Held    []string `json:"held"`
	Missing []string `json:"missing,omitempty"`
	Error   string   `json:"error,omitempty"` // the last failure to add, remove or read
	// ARP lists the sysctls that suppress ARP for the VIPs and their state.
	ARP []string `json:"arp,omitempty"`
}

// bgpStatus is the director's side of the BGP status: the decisions and
// the waits. It runs on the director goroutine; withSpeaker adds the
// speaker's view off it.
func (d *Director) bgpStatus() *BGPStatus {
	if d.cfg.BGP == nil && len(d.bgp.last) == 0 {
		return nil
	}
	st := &BGPStatus{Neighbors: []BGPNeighborStatus{}, VIPs: []BGPVIPStatus{}}
	if d.cfg.BGP != nil {
		st.ASN, st.RouterID = d.cfg.BGP.ASN, d.cfg.BGP.RouterID.String()
	}
	if d.deps.Loopback != nil {
		st.Loopback = d.deps.Loopback.Status()
	}
	for _, a := range d.bgp.last {
		v := BGPVIPStatus{Prefix: a.Prefix.String(), Services: slices.Clone(a.Services), State: "withdrawn",
			Reason: a.Reason, Since: d.bgp.since[a.Prefix]}
		switch {
		case a.GracefulShutdown:
			v.State = "graceful_shutdown"
		case a.Announce:
			v.State = "announced"
		}
		v.OnLoopback = slices.Contains(st.Loopback.Held, v.Prefix)
		st.VIPs = append(st.VIPs, v)
	}
	if w := d.bgp.drain; w != nil {
		s := w.status()
		st.Drain = &s
	}
	if w := d.bgp.stop; w != nil {
		s := w.status()
		st.Stopping = &s
	}
	return st
}

// withSpeaker fills in the sessions and the routes the speaker holds,
// read from sp off the director goroutine.
func (st *BGPStatus) withSpeaker(sp Speaker) {
	if st == nil || sp == nil {
		return
	}
	s := sp.Status()
	st.Running = s.Running
	for _, n := range s.Neighbors {
		st.Neighbors = append(st.Neighbors, BGPNeighborStatus{
			Address: n.Address.String(), ASN: n.ASN, State: n.State, UptimeSeconds: n.Uptime.Seconds(),
			LastError: n.LastError, MsgsSent: n.MsgsSent, MsgsReceived: n.MsgsReceived,
			UpdatesSent: n.UpdatesSent, UpdatesReceived: n.UpdatesReceived, Accepted: n.Accepted,
		})
	}
	for i := range st.VIPs {
		st.VIPs[i].InSpeaker = slices.ContainsFunc(s.Announced, func(r bgp.RouteStatus) bool { return r.Prefix.String() == st.VIPs[i].Prefix })
	}
}
