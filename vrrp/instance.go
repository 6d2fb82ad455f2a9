package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/havsd/havsd/internal/clock"
	"github.com/havsd/havsd/vrrp/vip"
)

// VIPManager adds, removes, lists and announces addresses; *vip.Manager is
// the real one.
type VIPManager interface {
	Add(a vip.Address) error
	Remove(a vip.Address) error
	Announce(dev string, addrs []netip.Addr) error
	// List returns the addresses the kernel has on dev (none, without
	// error, when dev does not exist).
	List(dev string) ([]netip.Prefix, error)
}

// Options are an instance's collaborators; zero fields get the real ones.
type Options struct {
	Logger *slog.Logger
	Conn   Conn        // nil: Listen(cfg) in Run, again whenever the socket is lost
	VIPs   VIPManager  // nil: vip.NewManager
	Clock  clock.Clock // nil: clock.Real (monotonic)
	Links  LinkWatcher // nil: netlink link subscription
	Addrs  AddrWatcher // nil: netlink address subscription
	// NotifyTimeout bounds each notify command (default 30 s).
	NotifyTimeout time.Duration
	// FIFO, if set, gets a line per transition of the instance and of
	// its sync group (keepalived's notify_fifo).
	FIFO *NotifyFIFO
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
	// FaultReason says why the instance is in FAULT ("interface eth1 does
	// not exist", "interface eth0 is down", ...); empty otherwise.
	FaultReason string
	// VIPs are the instance's VIPs the kernel holds, as last read from it;
	// WantedVIPs those it should hold in its state. MissingVIPs and
	// UnexpectedVIPs are the difference when last read (repaired at once;
	// non-empty only while a repair fails).
	VIPs, WantedVIPs            []netip.Prefix
	MissingVIPs, UnexpectedVIPs []netip.Prefix
	Yielding                    bool      // after a handover: not preempting
	YieldingSince               time.Time // when the yield began
	YieldingUntil               time.Time // when it ends by itself (zero: it does not)
	Sent, Received              uint64
	Drops                       map[string]uint64 // by DropReason.String()
	// PeerVIPMismatch lists the peers whose adverts carry another address
	// list than ours (elected on anyway, RFC 5798 §7.1);
	// VIPMismatchAdverts counts such adverts since start.
	PeerVIPMismatch    []PeerMismatch
	VIPMismatchAdverts uint64
	LastTransition     Event
	Heartbeat          time.Time // last time the loop ran; stale means stuck
}

// PeerMismatch is a peer advertising another VIP list than ours.
type PeerMismatch struct {
	Peer netip.Addr
	VIPs []netip.Addr // as the peer advertises them, sorted
}

// ErrNotMaster is returned by Handover when the instance is not master.
var ErrNotMaster = errors.New("not master")

// Instance is one running virtual router. Its loop (Run) owns the state
// machine; the other methods talk to it and are safe for concurrent use.
type Instance struct {
	log   *slog.Logger
	opts  Options
	clock clock.Clock

	cmds chan func(*loop) // to the running loop
	wake chan struct{}    // group state changed
	// ev is the running loop's event loop, kicked after queueing an input
	// on cmds, wake or the watchers' channels (nil: the loop selects on
	// them).
	ev     atomic.Pointer[evLoop]
	events *eventQueue
	group  atomic.Pointer[Group]

	groupFault atomic.Bool // another sync group member is in Fault
	stepDown   atomic.Bool // a sync group member left MASTER
	resume     atomic.Bool // a sync group member became MASTER

	// vipMu serialises VIP changes between the loop and the dead-man
	// switch (ReleaseIfStalled); released tells the loop that the switch
	// removed the VIPs, so it must re-enter the election before adding any.
	vipMu    sync.Mutex
	released bool

	mu      sync.Mutex
	cfg     Config
	delta   int
	running bool
	stopped chan struct{} // closed when the current Run returns
	status  Status

	// trackFault, guarded by mu, holds the instance in FAULT while not
	// empty (track.go).
	trackFault string
	// siblings, guarded by mu, are Options.SiblingVRIDs as last set
	// (SetSiblingVRIDs).
	siblings []uint8
}

// NewInstance checks cfg and returns an instance; it does no I/O.
func NewInstance(cfg Config, opts Options) (*Instance, error) {
	if err := checkConfig(cfg); err != nil {
		return nil, fmt.Errorf("vrrp instance %s: %w", cfg.Name, err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Clock = clock.OrReal(opts.Clock)
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
	i.siblings = slices.Clone(opts.SiblingVRIDs)
	return i, nil
}

// SetSiblingVRIDs replaces Options.SiblingVRIDs after a reload added,
// removed or renumbered the daemon's other instances on this interface:
// their adverts are then ignored, not counted as unknown-VRID drops, and
// the socket's kernel filter is re-attached with the new list.
func (i *Instance) SetSiblingVRIDs(vrids []uint8) {
	i.mu.Lock()
	i.siblings = slices.Clone(vrids)
	i.mu.Unlock()
	i.do(func(l *loop) { l.val = l.validator(l.cfg) })
}

// siblingVRIDs returns the VRIDs last set by Options or SetSiblingVRIDs.
func (i *Instance) siblingVRIDs() []uint8 {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.siblings
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
// Transitions nobody reads within a second of Run returning stay queued
// for the next Run.
func (i *Instance) Events() <-chan Event { return i.events.out }

// Status returns a snapshot.
func (i *Instance) Status() Status {
	i.mu.Lock()
	defer i.mu.Unlock()
	s := i.status
	s.VIPs = append([]netip.Prefix(nil), s.VIPs...)
	s.WantedVIPs = append([]netip.Prefix(nil), s.WantedVIPs...)
	s.MissingVIPs = append([]netip.Prefix(nil), s.MissingVIPs...)
	s.UnexpectedVIPs = append([]netip.Prefix(nil), s.UnexpectedVIPs...)
	s.PeerVIPMismatch = append([]PeerMismatch(nil), s.PeerVIPMismatch...)
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
		i.kick()
		return true, stopped
	case <-stopped:
		return false, nil
	}
}

// kick wakes the running loop after an input was queued for it.
func (i *Instance) kick() {
	if e := i.ev.Load(); e != nil {
		e.wake()
	}
}

// poke tells the loop that its sync group's state changed.
func (i *Instance) poke() {
	select {
	case i.wake <- struct{}{}:
	default:
	}
	i.kick()
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
// Master_Down_Interval and a second, for a backup running late on a loaded
// host), then releases them and stays a backup that does not preempt until
// the new master fails or Resume is called. It returns when the handover
// is complete; ErrNotMaster if not master; an error if no backup took over
// in that time (it then stays master).
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

// Resume ends the yield after a Handover: the instance preempts again per
// its config. It reports whether the instance was yielding.
func (i *Instance) Resume() bool {
	res := make(chan bool, 1)
	ok, stopped := i.do(func(l *loop) {
		was := l.m.Yield
		l.log.Info("resume requested", "yielding", was, "state", l.m.State.String())
		l.step(Input{Kind: EvResume})
		res <- was
	})
	if !ok {
		return false
	}
	select {
	case was := <-res:
		return was
	case <-stopped:
		return false
	}
}

// ReleaseIfStalled is the dead-man switch: if the instance is MASTER but
// its loop has not run for StallRelease, it removes the VIPs (a master that
// cannot advertise must not keep them, or there will be two masters) and
// tells the loop, which re-enters the election when it runs again and
// cannot add a VIP before. It reports whether it released them and how long
// the loop has been silent. It never blocks on the loop: while the loop is
// in the middle of a VIP change it does nothing (the loop is not stuck).
func (i *Instance) ReleaseIfStalled() (released bool, silent time.Duration, err error) {
	i.mu.Lock()
	st, cfg := i.status, i.cfg
	i.mu.Unlock()
	if st.State != StateMaster || st.Heartbeat.IsZero() {
		return false, 0, nil
	}
	silent = i.clock.Now().Sub(st.Heartbeat)
	if silent < StallRelease(cfg.AdvertInterval) || !i.vipMu.TryLock() {
		return false, silent, nil
	}
	defer i.vipMu.Unlock()
	// The loop marks itself running under vipMu as it resumes
	// (takeReleased): read the heartbeat again, or a loop that resumed
	// meanwhile and became master again would lose its VIPs.
	i.mu.Lock()
	st = i.status
	i.mu.Unlock()
	silent = i.clock.Now().Sub(st.Heartbeat)
	if i.released || st.State != StateMaster || silent < StallRelease(cfg.AdvertInterval) {
		return false, silent, nil
	}
	i.released = true
	var errs []error
	for _, a := range vipAddresses(cfg) {
		errs = append(errs, i.opts.VIPs.Remove(a))
	}
	i.log.Error("VRRP loop stalled while MASTER: VIPs released by the dead-man switch", "silent_for", silent.Round(time.Millisecond))
	return true, silent, errors.Join(errs...)
}

// takeReleased reports (once) that the dead-man switch released the VIPs.
// The loop calls it first in every iteration: it also marks the loop as
// running (Status.Heartbeat) under the switch's lock, so the switch either
// released before the loop resumed, and the loop hears of it now, or it
// sees the loop running and releases nothing the loop goes on to hold.
func (i *Instance) takeReleased() bool {
	i.vipMu.Lock()
	defer i.vipMu.Unlock()
	i.mu.Lock()
	i.status.Heartbeat = i.clock.Now()
	i.mu.Unlock()
	r := i.released
	i.released = false
	return r
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

// eventQueue is an unbounded FIFO in front of a channel. Its forwarder
// runs only while Run does (Run starts it and waits for it), so a stopped
// instance leaves no goroutine behind.
type eventQueue struct {
	mu    sync.Mutex
	items []Event
	kick  chan struct{}
	out   chan Event
}

// flushWait bounds how long a stopping Run waits for a reader to take the
// last transitions; any left stay queued for the next Run.
const flushWait = time.Second

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

func (q *eventQueue) peek() (Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return Event{}, false
	}
	return q.items[0], true
}

func (q *eventQueue) pop() {
	q.mu.Lock()
	q.items = q.items[1:]
	q.mu.Unlock()
}

// forward delivers queued events until stop is closed; then it keeps
// delivering for at most flushWait (on c) and returns once the queue is
// empty.
func (q *eventQueue) forward(c clock.Clock, stop <-chan struct{}) {
	var deadline <-chan time.Time
	for {
		e, ok := q.peek()
		if !ok && deadline != nil {
			return
		}
		var out chan<- Event
		if ok {
			out = q.out
		}
		select {
		case out <- e:
			q.pop()
		case <-q.kick:
		case <-stop:
			t := c.NewTimer(flushWait)
			defer t.Stop()
			deadline, stop = t.C(), nil
		case <-deadline:
			return
		}
	}
}
