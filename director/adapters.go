package director

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

// VRRPs builds real VRRP instances (*vrrp.Instance) for the director and
// ties sync groups together. Its methods run on the director goroutine.
type VRRPs struct {
	log   *slog.Logger
	built map[string]*vrrp.Instance // by name, for Bind
	// FIFO, if set before the first New, is every instance's notify FIFO.
	FIFO *vrrp.NotifyFIFO
}

// NewVRRPs returns a builder whose New is Deps.NewVRRP and Bind is Deps.Bind.
func NewVRRPs(log *slog.Logger) *VRRPs {
	return &VRRPs{log: log, built: make(map[string]*vrrp.Instance)}
}

// New builds an instance that reports its transitions through report.
func (f *VRRPs) New(cfg vrrp.Config, siblings []uint8, report Report) (VRRP, error) {
	in, err := vrrp.NewInstance(cfg, vrrp.Options{Logger: f.log, SiblingVRIDs: siblings, FIFO: f.FIFO})
	if err != nil {
		return nil, err
	}
	f.built[cfg.Name] = in
	return &vrrpInstance{in: in, report: report, log: f.log, cfg: cfg, kick: make(chan struct{}, 1)}, nil
}

// Bind ties the instances of each sync group of cfg together; every member
// must have been built by New.
func (f *VRRPs) Bind(cfg *conf.Config) error {
	var errs []error
	for _, g := range cfg.SyncGroups {
		var members []*vrrp.Instance
		for _, name := range g.Instances {
			if in, ok := f.built[name]; ok {
				members = append(members, in)
			}
		}
		if _, err := vrrp.NewGroup(g, members, f.log); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// vrrpInstance adapts *vrrp.Instance to the director's VRRP interface. Run
// starts two goroutines that live as long as it: one forwards the
// instance's events to the director, one applies queued updates, so that
// the director's calls never wait on the instance's loop.
type vrrpInstance struct {
	in     instanceCore
	report Report
	log    *slog.Logger
	kick   chan struct{} // buffered(1): something is queued

	mu    sync.Mutex
	cfg   vrrp.Config  // as last queued, for status
	next  *vrrp.Config // queued update
	delta *int         // queued priority delta
	fault *string      // queued tracker fault
	sibs  *[]uint8     // queued sibling VRIDs
}

// instanceCore is what the adapter uses of *vrrp.Instance.
type instanceCore interface {
	Run(ctx context.Context) error
	Events() <-chan vrrp.Event
	Update(cfg vrrp.Config) error
	SetPriorityDelta(delta int)
	SetTrackFault(reason string)
	SetSiblingVRIDs(vrids []uint8)
	Handover(ctx context.Context) error
	Status() vrrp.Status
	Resume() bool
	ReleaseIfStalled() (bool, time.Duration, error)
}

// Run runs the instance until ctx is done and it has stopped.
func (v *vrrpInstance) Run(ctx context.Context) error {
	life, end := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); v.forward(life) }()
	go func() { defer wg.Done(); v.apply(life) }()
	// Run hands over its queued transitions before it returns (bounded by
	// vrrp's flush wait); forward reads until then.
	err := v.in.Run(ctx)
	end()
	wg.Wait()
	return err
}

// forward reports the instance's transitions until life ends.
func (v *vrrpInstance) forward(life context.Context) {
	for {
		select {
		case ev := <-v.in.Events():
			v.report(life, StateChange{Instance: ev.Instance, From: ev.From, To: ev.To, Reason: ev.Reason, At: ev.At})
		case <-life.Done():
			return
		}
	}
}

// apply hands queued updates to the instance until life ends; the latest
// queued configuration and delta win.
func (v *vrrpInstance) apply(life context.Context) {
	for {
		select {
		case <-v.kick:
		case <-life.Done():
			return
		}
		v.mu.Lock()
		cfg, delta, fault, sibs := v.next, v.delta, v.fault, v.sibs
		v.next, v.delta, v.fault, v.sibs = nil, nil, nil, nil
		v.mu.Unlock()
		if cfg != nil {
			if err := v.in.Update(*cfg); err != nil {
				v.log.Error("reload: updating VRRP instance", "instance", cfg.Name, "err", err)
			}
		}
		if delta != nil {
			v.in.SetPriorityDelta(-*delta)
		}
		if fault != nil {
			v.in.SetTrackFault(*fault)
		}
		if sibs != nil {
			v.in.SetSiblingVRIDs(*sibs)
		}
	}
}

func (v *vrrpInstance) queue(f func()) {
	v.mu.Lock()
	f()
	v.mu.Unlock()
	select {
	case v.kick <- struct{}{}:
	default:
	}
}

// Update queues a reloaded configuration.
func (v *vrrpInstance) Update(cfg vrrp.Config) { v.queue(func() { v.cfg, v.next = cfg, &cfg }) }

// LowerPriority queues lowering the advertised priority by n (tracked services).
func (v *vrrpInstance) LowerPriority(n int) { v.queue(func() { v.delta = &n }) }

// SetTrackFault queues holding the instance in FAULT (weight-0 trackers).
func (v *vrrpInstance) SetTrackFault(reason string) { v.queue(func() { v.fault = &reason }) }

// SetSiblings queues replacing the sibling VRIDs.
func (v *vrrpInstance) SetSiblings(vrids []uint8) { v.queue(func() { v.sibs = &vrids }) }

// Handover hands the master role over; see vrrp.Instance.Handover.
func (v *vrrpInstance) Handover(ctx context.Context) error { return v.in.Handover(ctx) }

// Resume ends a yield after a handover; see vrrp.Instance.Resume.
func (v *vrrpInstance) Resume() bool { return v.in.Resume() }

// ReleaseIfStalled is the dead-man switch; see vrrp.Instance.ReleaseIfStalled.
func (v *vrrpInstance) ReleaseIfStalled() (bool, time.Duration, error) {
	return v.in.ReleaseIfStalled()
}

// Status converts the instance's snapshot.
func (v *vrrpInstance) Status() InstanceStatus {
	st := v.in.Status()
	v.mu.Lock()
	cfg := v.cfg
	v.mu.Unlock()
	is := InstanceStatus{
		Name:              st.Name,
		Interface:         cfg.Interface,
		VRID:              int(st.VRID),
		Version:           cfg.Version,
		State:             stateName(st.State, false),
		Priority:          int(st.Priority),
		EffectivePriority: int(st.EffectivePriority),
		AdvertInterval:    cfg.AdvertInterval.String(),
		AdvertsSent:       st.Sent,
		AdvertsReceived:   st.Received,
		Drops:             st.Drops,
		Heartbeat:         st.Heartbeat,
	}
	if st.MasterAddr.IsValid() {
		is.Master = st.MasterAddr.String()
	}
	if st.MasterAdverInterval > 0 {
		is.AdvertInterval = st.MasterAdverInterval.String()
	}
	for _, p := range cfg.VIPs {
		is.VIPs = append(is.VIPs, p.Prefix.String())
	}
	// The kernel's truth, as the instance last read it.
	is.HeldVIPs = prefixStrings(st.VIPs)
	is.MissingVIPs, is.UnexpectedVIPs = prefixStrings(st.MissingVIPs), prefixStrings(st.UnexpectedVIPs)
	is.FaultReason = st.FaultReason
	if st.Yielding {
		is.Yielding = &Yield{Since: st.YieldingSince}
		if !st.YieldingUntil.IsZero() {
			is.Yielding.Until = &st.YieldingUntil
		}
	}
	for _, m := range st.PeerVIPMismatch {
		is.PeerVIPMismatch = append(is.PeerVIPMismatch, PeerMismatch{Peer: m.Peer.String(), VIPs: addrStrings(m.VIPs)})
	}
	is.VIPMismatchAdverts = st.VIPMismatchAdverts
	return is
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

// healthAdapter adapts *checks.Scheduler to the director's Health interface.
type healthAdapter struct {
	s   *checks.Scheduler
	out chan<- HealthChange
}

func (h *healthAdapter) Run(ctx context.Context) error {
	go func() {
		for {
			select {
			case tr := <-h.s.Transitions():
				select {
				case h.out <- HealthChange{ID: string(tr.ID), Up: tr.Up, Weight: tr.Weight, Reason: tr.Reason}:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return h.s.Run(ctx)
}

func (h *healthAdapter) Set(targets map[string][]checks.Spec) {
	m := make(map[checks.ID][]checks.Spec, len(targets))
	for id, specs := range targets {
		m[checks.ID(id)] = specs
	}
	h.s.Set(m)
}

func (h *healthAdapter) Status() map[string]HealthStatus {
	st := h.s.Status()
	out := make(map[string]HealthStatus, len(st))
	for id, s := range st {
		hs := HealthStatus{Up: s.Up, LastError: s.LastError, Checked: !s.LastCheck.IsZero()}
		for _, c := range s.Checks {
			if c.EffectiveInterval > c.Interval*3/2 {
				hs.Stretched = max(hs.Stretched, c.EffectiveInterval)
			}
		}
		out[string(id)] = hs
	}
	return out
}

// NewHealth adapts a check scheduler to the Health interface; transitions go to out.
func NewHealth(s *checks.Scheduler, out chan<- HealthChange) Health {
	return &healthAdapter{s: s, out: out}
}

// NewIPVS adapts a reconciler to the IPVS interface.
func NewIPVS(r *lvs.Reconciler) IPVS { return reconciler{r} }

// reconciler adapts *lvs.Reconciler to the director's IPVS interface.
type reconciler struct{ *lvs.Reconciler }

func (r reconciler) Status() IPVSStatus {
	s := r.Stats()
	return IPVSStatus{Available: true, Error: s.LastError, Reconciles: s.Runs, Ops: s.Ops, Errors: s.Errors, LastRun: s.LastRun}
}

// NoIPVS returns the IPVS stand-in for a kernel without IPVS; err says why.
func NoIPVS(err error) IPVS { return noIPVS{err: err} }

// noIPVS stands in for the reconciler on a kernel without IPVS: the director
// still runs VRRP and health checks, and status says why nothing is programmed.
type noIPVS struct{ err error }

func (n noIPVS) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (noIPVS) SetDesired(lvs.Desired)          {}
func (noIPVS) Trigger()                        {}
func (noIPVS) Observed() []lvs.Service         { return nil }
func (n noIPVS) Status() IPVSStatus {
	return IPVSStatus{Available: false, Error: n.err.Error()}
}
