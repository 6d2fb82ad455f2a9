package conf

import (
	"net/netip"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/track"
	"github.com/havsd/havsd/vrrp"
)

// Config is a loaded, validated and compiled configuration: the typed models
// of vrrp, lvs and checks that the director runs.
type Config struct {
	Global     Global
	Instances  []vrrp.Config
	SyncGroups []vrrp.SyncGroup
	Services   []VirtualService
	// Marks are the firewall-mark classification rules havsd owns.
	Marks []lvs.MarkRule
	// TrackServices lower VRRP priorities while services have lost quorum.
	TrackServices []TrackService
	// Trackers are the vrrp_script, track_file and track_process trackers
	// and the signed track_interface weights (track.go).
	Trackers Trackers
	// ServiceGroups are the virtual_service_group blocks; the services of
	// their members are in Services (svcgroup.go).
	ServiceGroups []ServiceGroup
	// BGP is the bgp block (bgp.go): the speaker announcing the services
	// with Announce "bgp"; nil without one.
	BGP *BGP
}

// TrackService makes a VRRP instance's priority depend on a virtual
// service: while the service has lost quorum (its live real servers carry
// too little weight), the instance's priority is lowered by Weight, so a
// director whose real servers are dead hands its VIP to one whose are not.
type TrackService struct {
	Instance string // vrrp_instance name
	Service  string // virtual_service label
	Weight   int    // 1..254
}

// IPVSMode says on which directors the IPVS table is programmed.
type IPVSMode uint8

// IPVS programming modes.
const (
	IPVSModeInvalid IPVSMode = iota
	IPVSAlways               // warm standby: every director programs IPVS (default)
	IPVSMasterOnly           // only a director that is master of the owning instance
)

// String returns the configuration spelling ("always", "master").
func (m IPVSMode) String() string {
	switch m {
	case IPVSAlways:
		return "always"
	case IPVSMasterOnly:
		return "master"
	}
	return "invalid"
}

// Global holds director-wide settings.
type Global struct {
	RouterID          string
	ControlSocket     string // default /run/havsd/havsd.sock
	MetricsListen     string // e.g. "127.0.0.1:9473"; empty disables metrics
	LogFormat         string // "text" (default) or "json"
	LogLevel          string // "debug", "info" (default), "warn", "error"
	IPVSMode          IPVSMode
	ReconcileInterval time.Duration // periodic drift repair; default 10s
	PruneForeign      bool          // delete IPVS services havsd does not own
	SetSysctls        bool          // set ip_forward / vs.conntrack when a mode needs them
	// NotifyFIFO is keepalived's notify_fifo: a FIFO that gets a line per
	// VRRP instance and sync group transition; empty for none.
	NotifyFIFO string
	// ScriptUser runs quorum_up/down and notify_up/down commands: global
	// script_user, else havsd_script if it exists, else "" (the daemon's
	// user). vrrp_scripts carry their own (track.Script.User).
	ScriptUser string
	// IPVS connection timeouts (ipvsadm --set); zero leaves the kernel's.
	TimeoutTCP, TimeoutTCPFin, TimeoutUDP time.Duration
	// Sync is the ipvs_sync block (connection-sync daemons); nil for none.
	Sync *IPVSSync
}

// VirtualService is one IPVS virtual service with the health-checked real
// servers and the policies that turn health into weights.
type VirtualService struct {
	Name string // the block label, used in logs and status
	// Service holds the key, scheduler, flags and persistence. Its
	// Destinations are empty: the real servers below are the source of truth.
	Service lvs.Service
	Reals   []RealServer
	// Sorry is the sorry server, used while quorum is lost; nil for none.
	// Its InhibitOnFailure is sorry_server_inhibit: kept in the table at
	// weight 0 while quorum holds.
	Sorry *RealServer
	// Quorum is the minimum sum of live weights; below Quorum-Hysteresis the
	// sorry server comes in, at or above Quorum+Hysteresis it leaves.
	Quorum, Hysteresis int
	// Instance names the VRRP instance whose VIP this service uses; with
	// IPVSMasterOnly the service is programmed only while that instance is master.
	Instance string
	// QuorumUp and QuorumDown run (argv) when the service gains or loses
	// quorum (keepalived's quorum_up, quorum_down).
	QuorumUp, QuorumDown []string
	// Omega runs, when the daemon stops, quorum_down if the quorum holds
	// and notify_down of every server up (keepalived's omega).
	Omega bool
	// Group is the virtual_service_group this service is a member of, and
	// GroupService the label of the virtual_service that names the group
	// (this service is "GroupService/MEMBER"); empty for a service of its
	// own.
	Group, GroupService string
	// Graceful removal: a real server dropped from the config is drained
	// (weight 0) for DrainFor before it is deleted. Zero deletes at once.
	DrainFor time.Duration
	// Announce is how the VIP reaches the network: AnnounceVRRP (moved by
	// a VRRP instance) or AnnounceBGP (announced by the bgp block's speaker
	// while this director can serve it).
	Announce string
}

// RealServer is one real server of a virtual service.
type RealServer struct {
	Dest lvs.Destination // Forward is Masq for full-NAT
	// FullNAT adds an SNAT rule so that the real server sees SNATSource as the
	// client: masq plus SNAT, since mainline IPVS has no full-NAT.
	// A zero SNATSource means the address of the interface the packet
	// leaves by (nftables masquerade).
	FullNAT    bool
	SNATSource netip.Addr
	// InhibitOnFailure keeps a failed server at weight 0 instead of removing it.
	InhibitOnFailure bool
	Checks           []checks.Spec
	// NotifyUp and NotifyDown run (argv) when the checks find the server
	// up or down (keepalived's notify_up, notify_down).
	NotifyUp, NotifyDown []string
	// TrackFiles are keepalived's FILE_CHECKs: track_file trackers whose
	// value × Weight (negated with Reverse) is added to the server's
	// weight; with Weight 0 a non-zero value (with Reverse, zero) holds the
	// server down.
	TrackFiles []track.Ref
}
