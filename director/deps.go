package director

import (
	"context"
	"time"

	"github.com/havsd/havsd/bgp"
	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/internal/clock"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

// VRRP is one VRRP instance as the director drives it. Only Run may block:
// the director's goroutine calls the other methods and must never wait on
// an instance's loop.
type VRRP interface {
	// Run runs the instance until ctx is done, then stops gracefully
	// (priority 0, VIPs released once a new master is heard).
	Run(ctx context.Context) error
	// Update queues a reloaded configuration, applied without resetting
	// state; the VRID, interface, family and version are those of the
	// instance.
	Update(cfg vrrp.Config)
	// Handover makes a master give way to a backup without a gap. It
	// blocks until done; the director calls it from the caller's goroutine.
	Handover(ctx context.Context) error
	// LowerPriority queues lowering the effective priority by n (0: not at all).
	LowerPriority(n int)
	// SetTrackFault queues holding the instance in FAULT while reason is
	// not empty (a weight-0 tracker failed; see vrrp.Instance.SetTrackFault).
	SetTrackFault(reason string)
	// SetSiblings queues replacing the VRIDs of the daemon's other
	// instances on this one's interface and family, after a reload changed
	// them (see vrrp.Instance.SetSiblingVRIDs).
	SetSiblings(vrids []uint8)
	// Status reports the instance's state for status and metrics.
	Status() InstanceStatus
	// Resume ends the yield that follows a handover (`havsd resume`),
	// reporting whether the instance was yielding.
	Resume() bool
	// ReleaseIfStalled is the dead-man switch: the instance itself
	// releases its VIPs if it is master and its loop has stood still
	// (see vrrp.Instance.ReleaseIfStalled). It never blocks.
	ReleaseIfStalled() (released bool, silent time.Duration, err error)
}

// Report delivers one transition of an instance to the director, in the
// order they happened. It blocks until the director has taken it, which it
// does promptly, or until ctx is done.
type Report func(ctx context.Context, sc StateChange)

// StateChange is a VRRP transition reported to the director.
type StateChange struct {
	Instance string
	From, To vrrp.State
	Reason   string
	At       time.Time
}

// IPVS is the reconciler that programs the kernel's table.
type IPVS interface {
	Run(ctx context.Context) error
	SetDesired(d lvs.Desired)
	// Trigger asks for a pass that reads the whole kernel table soon: a
	// reload repairs drift at once instead of at the next interval.
	Trigger()
	Observed() []lvs.Service
	Status() IPVSStatus
}

// Health is the check scheduler.
type Health interface {
	Run(ctx context.Context) error
	// Set replaces the checked targets; unchanged targets keep their state.
	Set(targets map[string][]checks.Spec)
	// Status reports each target's health.
	Status() map[string]HealthStatus
}

// HealthStatus is one target's health as the scheduler sees it.
type HealthStatus struct {
	Up        bool
	LastError string
	Checked   bool // a check has given a result
	// Stretched is the longest time between the starts of one of its
	// checks when that exceeds the check's interval by more than half:
	// the director is too busy to check at the configured rate. Zero
	// otherwise.
	Stretched time.Duration
}

// HealthChange is a check transition reported to the director.
type HealthChange struct {
	ID     string
	Up     bool
	Weight checks.Weight // what the checks do to the weight (misc_dynamic)
	Reason string
}

// Loaded is the outcome of loading the configuration file.
type Loaded struct {
	Config      *conf.Config
	Diagnostics string // rendered diagnostics (warnings or errors)
	Err         error  // non-nil when the file did not load or validate
}

// Deps are the director's connections to the world. Tests pass fakes.
type Deps struct {
	// Load reads and validates the configuration file.
	Load func() Loaded
	// NewVRRP builds an instance that reports its transitions through
	// report; siblings are the VRIDs of the other instances on the same link.
	NewVRRP func(cfg vrrp.Config, siblings []uint8, report Report) (VRRP, error)
	// Bind, if set, is called once at start, after NewVRRP built every
	// instance of cfg and before any runs, to tie sync groups together.
	Bind func(cfg *conf.Config) error
	IPVS IPVS
	// Sync keeps the connection-sync daemons of ipvs_sync (sync.go); nil
	// disables them.
	Sync SyncDaemons
	// NewHealth builds the scheduler that reports transitions on events.
	NewHealth func(events chan<- HealthChange) Health
	// Clock times drains, the dead-man switch and reload stamps; nil is
	// the real clock.
	Clock clock.Clock
	// NewBGP builds the BGP speaker of a bgp block (bgp.go); nil leaves a
	// configured bgp block without a speaker, said in the log.
	NewBGP func(cfg bgp.Config) (Speaker, error)
	// Loopback keeps the VIPs of BGP services on the loopback
	// (LoopbackVIPs); nil for none.
	Loopback Loopback
	// Links watches the track_interface links for the BGP announcements
	// (bgplinks.go); nil watches none.
	Links vrrp.LinkWatcher
}
