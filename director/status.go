package director

import "time"

// Status is the director's state as `havsd status --json` prints it. Field
// names are part of havsd's interface: add fields, never rename them.
type Status struct {
	RouterID   string           `json:"router_id"`
	ConfigFile string           `json:"config_file"`
	Started    time.Time        `json:"started"`
	LastReload ReloadStatus     `json:"last_reload"`
	Instances  []InstanceStatus `json:"instances"`
	Services   []ServiceStatus  `json:"services"`
	IPVS       IPVSStatus       `json:"ipvs"`
	Sync       *SyncStatus      `json:"ipvs_sync,omitempty"` // connection-sync daemons (sync.go)
	Trackers   []TrackerStatus  `json:"trackers"`
	BGP        *BGPStatus       `json:"bgp,omitempty"` // bgpstatus.go; absent without a bgp block
}

// ReloadStatus is the outcome of the last reload.
type ReloadStatus struct {
	At          time.Time `json:"at"`
	OK          bool      `json:"ok"`
	Diagnostics string    `json:"diagnostics,omitempty"` // rendered file:line:col text
	Summary     string    `json:"summary,omitempty"`     // what changed
	Count       uint64    `json:"count"`                 // reloads attempted since start
}

// InstanceStatus is one VRRP instance.
type InstanceStatus struct {
	Name              string            `json:"name"`
	Interface         string            `json:"interface"`
	VRID              int               `json:"vrid"`
	Version           int               `json:"version"`
	State             string            `json:"state"` // "init", "backup", "master", "fault", "stopped"
	Priority          int               `json:"priority"`
	EffectivePriority int               `json:"effective_priority"`
	Master            string            `json:"master,omitempty"` // address of the current master, if known
	AdvertInterval    string            `json:"advert_interval"`
	VIPs              []string          `json:"vips"`
	HeldVIPs          []string          `json:"held_vips"`
	AdvertsSent       uint64            `json:"adverts_sent"`
	AdvertsReceived   uint64            `json:"adverts_received"`
	Drops             map[string]uint64 `json:"drops,omitempty"`
	Transitions       uint64            `json:"transitions"`
	LastTransition    *Transition       `json:"last_transition,omitempty"`
	Heartbeat         time.Time         `json:"heartbeat"` // last time the instance's loop ran
	// FaultReason says why the instance is in FAULT (missing or down
	// interface, sync group).
	FaultReason string `json:"fault_reason,omitempty"`
	// HeldVIPs is what the kernel has; MissingVIPs and UnexpectedVIPs are
	// its difference from what the state wants, as last read (repaired at
	// once: non-empty only while a repair fails).
	MissingVIPs    []string `json:"missing_vips,omitempty"`
	UnexpectedVIPs []string `json:"unexpected_vips,omitempty"`
	// Yielding is set while a backup does not preempt after a handover.
	Yielding *Yield `json:"yielding,omitempty"`
	// PeerVIPMismatch lists peers advertising another VIP list (elected
	// on anyway); VIPMismatchAdverts counts their adverts since start.
	PeerVIPMismatch    []PeerMismatch `json:"peer_vip_mismatch,omitempty"`
	VIPMismatchAdverts uint64         `json:"vip_mismatch_adverts"`
}

// Yield is a backup's yield after a handover: since when, and until when
// when bounded (the instance's yield_timeout); `havsd resume` ends it.
type Yield struct {
	Since time.Time  `json:"since"`
	Until *time.Time `json:"until,omitempty"`
}

// PeerMismatch is a peer whose adverts carry another VIP list than ours.
type PeerMismatch struct {
	Peer string   `json:"peer"`
	VIPs []string `json:"vips"`
}

// Transition is one VRRP state change.
type Transition struct {
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// ServiceStatus is one virtual service, desired and observed.
type ServiceStatus struct {
	Name        string       `json:"name"`
	Key         string       `json:"key"` // "tcp 172.25.254.100:80", "fwmark 66"
	Scheduler   string       `json:"scheduler"`
	Persistence string       `json:"persistence,omitempty"`
	Programmed  bool         `json:"programmed"` // present in the kernel table
	Wanted      bool         `json:"wanted"`     // present in the desired table
	QuorumUp    bool         `json:"quorum_up"`
	SorryActive bool         `json:"sorry_active"`
	Conns       uint64       `json:"conns"`
	PacketsIn   uint64       `json:"packets_in"`
	PacketsOut  uint64       `json:"packets_out"`
	BytesIn     uint64       `json:"bytes_in"`
	BytesOut    uint64       `json:"bytes_out"`
	Rates       Rates        `json:"rates"`
	Reals       []RealStatus `json:"reals"`
}

// Rates are the kernel's per-second estimates for a service or a real
// server (what ipvsadm -Ln --rate prints), averaged by IPVS over a few seconds.
type Rates struct {
	Conns      uint64 `json:"conns"`       // connections per second
	PacketsIn  uint64 `json:"packets_in"`  // packets per second from clients
	PacketsOut uint64 `json:"packets_out"` // packets per second to clients
	BytesIn    uint64 `json:"bytes_in"`    // bytes per second from clients
	BytesOut   uint64 `json:"bytes_out"`   // bytes per second to clients
}

// RealStatus is one real server.
type RealStatus struct {
	Address      string `json:"address"`
	Forward      string `json:"forward"`
	Weight       int    `json:"weight"`        // configured
	KernelWeight int    `json:"kernel_weight"` // as programmed; -1 when absent from the kernel
	Health       string `json:"health"`        // "up", "down", "unknown" (no check result yet), "unchecked" (no checks)
	// Decision says why a real server whose health is not known yet has
	// the weight it has ("in service until its first check result").
	Decision      string `json:"decision,omitempty"`
	LastError     string `json:"last_error,omitempty"`
	CheckInterval string `json:"check_interval,omitempty"` // effective, when overload stretches it past 1.5x the configured one
	Sorry         bool   `json:"sorry,omitempty"`
	Draining      bool   `json:"draining,omitempty"`
	ActiveConns   int    `json:"active_conns"`
	InactiveConns int    `json:"inactive_conns"`
	Conns         uint64 `json:"conns"`
	PacketsIn     uint64 `json:"packets_in"`
	PacketsOut    uint64 `json:"packets_out"`
	BytesIn       uint64 `json:"bytes_in"`
	BytesOut      uint64 `json:"bytes_out"`
	Rates         Rates  `json:"rates"`
}

// IPVSStatus summarises the reconciler.
type IPVSStatus struct {
	Available  bool      `json:"available"`
	Error      string    `json:"error,omitempty"`
	Reconciles uint64    `json:"reconciles"`
	Ops        uint64    `json:"ops"`
	Errors     uint64    `json:"errors"`
	LastRun    time.Time `json:"last_run"`
	// Foreign lists the services in the kernel table that the desired
	// table does not have: left alone unless prune_foreign is set.
	Foreign []string `json:"foreign,omitempty"`
}
