package vrrp

import (
	"net/netip"
	"time"
)

// VIP is a virtual address with its prefix, held by the master on a device.
type VIP struct {
	Prefix netip.Prefix // address and prefix length, e.g. 192.168.0.100/24
	Dev    string       // device; empty means the instance's interface
}

// TrackInterface makes an instance depend on a link. Weight 0 means the
// instance goes to Fault when the link is down; otherwise the priority is
// lowered by Weight (a positive number) while it is down.
type TrackInterface struct {
	Name   string
	Weight int
}

// GARP configures the gratuitous ARP / unsolicited NA bursts the master sends.
type GARP struct {
	Count       int           // packets in the first burst (keepalived: 5); 0: none
	Interval    time.Duration // spacing within a burst
	RepeatDelay time.Duration // delay before the second burst (keepalived: 5s); 0 disables it
	RepeatCount int           // packets in the second burst (keepalived: 5)
	Refresh     time.Duration // periodic refresh while master; 0 disables it
}

// Notify holds commands (argv, no shell) run on transitions.
type Notify struct {
	Master, Backup, Fault, Stop []string
	// Generic runs on every transition with keepalived's arguments
	// appended: INSTANCE name state priority (GROUP name state for a
	// sync group), state being MASTER, BACKUP, FAULT or STOP.
	Generic []string
}

// Config is one VRRP instance as the configuration describes it.
type Config struct {
	Name           string
	Interface      string
	VRID           uint8
	Priority       uint8 // 1..254, 255 for the address owner
	Version        int   // 2 or 3
	IPv6           bool  // address family of the instance (v3 only)
	AdvertInterval time.Duration
	VIPs           []VIP
	// UnicastSource and UnicastPeers switch the instance to unicast; adverts
	// from addresses not in UnicastPeers are dropped.
	UnicastSource netip.Addr
	UnicastPeers  []netip.Addr
	AuthPass      string // VRRPv2 simple password (at most 8 bytes); empty for none
	Preempt       bool
	PreemptDelay  time.Duration
	Track         []TrackInterface
	// DontTrackPrimary keeps the instance running while Interface is down
	// (keepalived's dont_track_primary); by default it goes to FAULT.
	DontTrackPrimary bool
	// YieldTimeout ends the yield that follows a handover after this long
	// (0: it lasts until the new master fails, a handover back, or Resume).
	YieldTimeout time.Duration
	Notify       Notify
	GARP         GARP
}

// SyncGroup is a set of instances that change state together.
type SyncGroup struct {
	Name      string
	Instances []string
	Notify    Notify
}
