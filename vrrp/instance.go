package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/havsd/havsd/vrrp/vip"
)

// VIPManager adds, removes and announces addresses; *vip.Manager is the
// real one.
type VIPManager interface {
	Add(a vip.Address) error
	Remove(a vip.Address) error
	Announce(dev string, addrs []netip.Addr) error
}

// Options are an instance's collaborators; zero fields get the real ones.
type Options struct {
	Logger *slog.Logger
	Conn   Conn        // nil: Listen(cfg) in Run
	VIPs   VIPManager  // nil: vip.NewManager
	Clock  Clock       // nil: the wall clock
	Links  LinkWatcher // nil: netlink link subscription
	// NotifyTimeout bounds each notify command (default 30 s).
	NotifyTimeout time.Duration
	// SiblingVRIDs are the VRIDs of the daemon's other instances on the
	// same interface: their adverts reach this instance's socket too and
	// are ignored instead of being counted as unknown-VRID drops.
	SiblingVRIDs []uint8
}

// Event reports one state transition of an instance.
type Event struct {
	Instance string
	VRID     uint8
	From, To State
	Reason   string
	At       time.Time
}

// Status is a snapshot of an instance.
type Status struct {
	Name                string
	VRID                uint8
	State               State
	Priority            uint8 // configured
	EffectivePriority   uint8 // after deltas and tracked interfaces
	MasterAddr          netip.Addr
	MasterAdverInterval time.Duration
	LocalAddr           netip.Addr
	VIPs                []netip.Prefix // held now
	Yielding            bool           // after a handover: not preempting
	Sent, Received      uint64
	Drops               map[string]uint64 // by DropReason.String()
	LastTransition      Event
	Heartbeat           time.Time // last time the loop ran; stale means stuck
}

// ErrNotMaster is returned by Handover when the instance is not master.
var ErrNotMaster = errors.New("not master")

// Instance is one running virtual router. Its loop (Run) owns the state
// machine; the other methods talk to it and are safe for concurrent use.
type Instance struct {
	log   *slog.Logger
	opts  Options
	clock Clock

	cmds   chan func(*loop) // to the running loop
	wake   chan struct{}    // group state changed
	events *eventQueue
	group  atomic.Pointer[Group]

	groupFault atomic.Bool // another sync group member is in Fault
	stepDown   atomic.Bool // a sync group member left MASTER
	resume     atomic.Bool // a sync group member became MASTER

	mu      sync.Mutex
	cfg     Config
	delta   int
	running bool
	stopped chan struct{} // closed when the current Run returns
	status  Status
}

// NewInstance checks cfg and returns an instance; it does no I/O.
func NewInstance(cfg Config, opts Options) (*Instance, error) {
	if err := checkConfig(cfg); err != nil {
		return nil, fmt.Errorf("vrrp instance %s: %w", cfg.Name, err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.NotifyTimeout <= 0 {
		opts.NotifyTimeout = 30 * time.Second
	}
	i := &Instance{
		log:    opts.Logger.With("component", "vrrp", "instance", cfg.Name, "vrid", cfg.VRID),
		opts:   opts,
		clock:  opts.Clock,
		cfg:    cfg,
		cmds:   make(chan func(*loop), 16),
		wake:   make(chan struct{}, 1),
		events: newEventQueue(),
	}
	if i.opts.VIPs == nil {
		i.opts.VIPs = vip.NewManager(opts.Logger)
	}
	i.status = Status{Name: cfg.Name, VRID: cfg.VRID, State: StateInit, Priority: cfg.Priority, EffectivePriority: cfg.Priority}
	return i, nil
}

func checkConfig(cfg Config) error {
	switch {
	case cfg.Interface == "":
		return errors.New("no interface")
	case cfg.VRID == 0:
		return errors.New("VRID must be 1..255")
	case cfg.Priority == 0:
		return errors.New("priority must be 1..255")
	case cfg.Version != 2 && cfg.Version != 3:
		return fmt.Errorf("version %d, want 2 or 3", cfg.Version)
	case cfg.Version == 2 && cfg.IPv6:
		return errors.New("VRRPv2 is IPv4 only")
	case cfg.Version == 2 && (cfg.AdvertInterval%time.Second != 0 || cfg.AdvertInterval < time.Second || cfg.AdvertInterval > 255*time.Second):
		return fmt.Errorf("v2 advert interval %v must be 1..255 whole seconds", cfg.AdvertInterval)
	case cfg.Version == 3 && (cfg.AdvertInterval%(10*time.Millisecond) != 0 || cfg.AdvertInterval < 10*time.Millisecond || cfg.AdvertInterval > 40950*time.Millisecond):
		return fmt.Errorf("v3 advert interval %v must be 10ms..40.95s in centiseconds", cfg.AdvertInterval)
	case len(advertAddrs(cfg)) == 0:
		return errors.New("no VIP of the instance's address family")
	case len(advertAddrs(cfg)) > 255:
		return errors.New("more than 255 VIPs")
	case len(cfg.AuthPass) > authLen:
		return errors.New("auth password longer than 8 bytes")
	}
	for _, p := range cfg.UnicastPeers {
		if p.Is6() != cfg.IPv6 {
			return fmt.Errorf("unicast peer %v of the wrong family", p)
		}
	}
	return nil
}

// Name is the instance's configured name.
func (i *Instance) Name() string { return i.cfg.Name }

// Events delivers every transition exactly once, in order; it is never
// closed and buffers without bound, so a slow reader never blocks Run.
func (i *Instance) Events() <-chan Event { return i.events.out }

// Status returns a snapshot.
func (i *Instance) Status() Status {
	i.mu.Lock()
	defer i.mu.Unlock()
	s := i.status
	s.VIPs = append([]netip.Prefix(nil), s.VIPs...)
	s.Drops = make(map[string]uint64, len(i.status.Drops))
	for k, v := range i.status.Drops {
		s.Drops[k] = v
	}
	return s
}

// do queues f for the loop if Run is active, else reports false; it also
// returns the channel closed when that Run returns.
func (i *Instance) do(f func(*loop)) (bool, <-chan struct{}) {
	i.mu.Lock()
	running, stopped := i.running, i.stopped
	i.mu.Unlock()
	if !running {
		return false, nil
	}
	select {
	case i.cmds <- f:
		return true, stopped
	case <-stopped:
		return false, nil
	}
}

// Update applies a reloaded configuration without resetting the state: the
// VRID, interface and family must not change. Priority, interval, VIPs
// (only added/removed ones change), peers, preempt, auth, tracking, notify
// and GARP settings take effect at once.
func (i *Instance) Update(cfg Config) error {
	if err := checkConfig(cfg); err != nil {
		return fmt.Errorf("updating vrrp instance %s: %w", cfg.Name, err)
	}
	i.mu.Lock()
	old := i.cfg
	i.mu.Unlock()
	if cfg.VRID != old.VRID || cfg.Interface != old.Interface || cfg.IPv6 != old.IPv6 || cfg.Version != old.Version {
		return fmt.Errorf("updating vrrp instance %s: VRID, interface, version and family cannot change on reload", cfg.Name)
	}
	done := make(chan struct{})
	ok, stopped := i.do(func(l *loop) { l.update(cfg); close(done) })
	if ok {
		select {
		case <-done:
			return nil
		case <-stopped:
		}
	}
	i.mu.Lock()
	i.cfg = cfg
	i.mu.Unlock()
	return nil
}

// SetPriorityDelta sets the health adjustment added to the configured
// priority: negative lowers it, 0 means none. The effective priority stays
// within 1..254 (255 for an owner without adjustment).
func (i *Instance) SetPriorityDelta(delta int) {
	i.mu.Lock()
	i.delta = delta
	i.mu.Unlock()
	i.do(func(l *loop) { l.step(Input{Kind: EvCheck}) })
}

// Handover hands mastership over while staying up: a master advertises
// priority 0, keeps its VIPs until it hears the new master (at most
// Master_Down_Interval), then releases them and stays a backup that does
// not preempt until the new master fails or Resume is called. It returns
// when the handover is complete; ErrNotMaster if not master; an error if no
// backup took over within Master_Down_Interval (it then stays master).
func (i *Instance) Handover(ctx context.Context) error {
	res := make(chan error, 1)
	ok, stopped := i.do(func(l *loop) { l.handover(res) })
	if !ok {
		return ErrNotMaster
	}
	select {
	case err := <-res:
		return err
	case <-stopped:
		return errors.New("instance stopped during handover")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Resume undoes a Handover: the instance preempts again per its config.
func (i *Instance) Resume() {
	i.do(func(l *loop) { l.step(Input{Kind: EvResume}) })
}

// ReleaseVIPs removes cfg's VIPs from this host if present: the daemon's
// start-up clean-up after a crashed predecessor and its dead-man switch.
func ReleaseVIPs(cfg Config, m VIPManager) error {
	if m == nil {
		m = vip.NewManager(nil)
	}
	var errs []error
	for _, a := range vipAddresses(cfg) {
		errs = append(errs, m.Remove(a))
	}
	return errors.Join(errs...)
}

func vipAddresses(cfg Config) []vip.Address {
	as := make([]vip.Address, 0, len(cfg.VIPs))
	for _, v := range cfg.VIPs {
		dev := v.Dev
		if dev == "" {
			dev = cfg.Interface
		}
		as = append(as, vip.Address{Dev: dev, Prefix: v.Prefix})
	}
	return as
}

// eventQueue is an unbounded FIFO in front of a channel.
type eventQueue struct {
	start sync.Once // the forwarder starts with the first Run
	mu    sync.Mutex
	items []Event
	kick  chan struct{}
	out   chan Event
}

func newEventQueue() *eventQueue {
	return &eventQueue{kick: make(chan struct{}, 1), out: make(chan Event)}
}

func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

func (q *eventQueue) forward() {
	for range q.kick {
		for {
			q.mu.Lock()
			if len(q.items) == 0 {
				q.mu.Unlock()
				break
			}
			e := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			q.out <- e
		}
	}
}
