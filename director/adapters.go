package director

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

// vrrpInstance adapts *vrrp.Instance to the director's VRRP interface.
type vrrpInstance struct {
	*vrrp.Instance
	events chan<- StateChange

	mu  sync.Mutex
	cfg vrrp.Config // as last applied, for status
}

// NewVRRPFunc returns Deps.NewVRRP for real *vrrp.Instance values.
func NewVRRPFunc(log *slog.Logger) func(vrrp.Config, []uint8, chan<- StateChange) (VRRP, error) {
	return func(cfg vrrp.Config, siblings []uint8, events chan<- StateChange) (VRRP, error) {
		in, err := vrrp.NewInstance(cfg, vrrp.Options{Logger: log, SiblingVRIDs: siblings})
		if err != nil {
			return nil, err
		}
		return &vrrpInstance{Instance: in, events: events, cfg: cfg}, nil
	}
}

// Run runs the instance and forwards its transitions until it has stopped.
func (v *vrrpInstance) Run(ctx context.Context) error {
	done := make(chan struct{})
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for {
			select {
			case ev := <-v.Events():
				v.forward(ev)
			case <-done:
				for {
					select {
					case ev := <-v.Events():
						v.forward(ev)
					case <-time.After(50 * time.Millisecond):
						return
					}
				}
			}
		}
	}()
	err := v.Instance.Run(ctx)
	close(done)
	<-forwarded
	return err
}

func (v *vrrpInstance) forward(ev vrrp.Event) {
	sc := StateChange{Instance: ev.Instance, From: stateName(ev.From), To: stateName(ev.To), Reason: ev.Reason, At: ev.At}
	select {
	case v.events <- sc:
	case <-time.After(5 * time.Second):
	}
}

// Update applies a reloaded configuration.
func (v *vrrpInstance) Update(cfg vrrp.Config) error {
	if err := v.Instance.Update(cfg); err != nil {
		return err
	}
	v.mu.Lock()
	v.cfg = cfg
	v.mu.Unlock()
	return nil
}

// LowerPriority lowers the advertised priority by n (tracked services).
func (v *vrrpInstance) LowerPriority(n int) { v.Instance.SetPriorityDelta(-n) }

func stateName(s vrrp.State) string { return strings.ToLower(s.String()) }

// Status converts the instance's snapshot.
func (v *vrrpInstance) Status() InstanceStatus {
	st := v.Instance.Status()
	v.mu.Lock()
	cfg := v.cfg
	v.mu.Unlock()
	is := InstanceStatus{
		Name:              st.Name,
		Interface:         cfg.Interface,
		VRID:              int(st.VRID),
		Version:           cfg.Version,
		State:             stateName(st.State),
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
	for _, p := range st.VIPs {
		is.HeldVIPs = append(is.HeldVIPs, p.String())
	}
	return is
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
				case h.out <- HealthChange{ID: string(tr.ID), Up: tr.Up, Reason: tr.Reason}:
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
		out[string(id)] = HealthStatus{Up: s.Up, LastError: s.LastError}
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
func (noIPVS) Observed() []lvs.Service         { return nil }
func (n noIPVS) Status() IPVSStatus {
	return IPVSStatus{Available: false, Error: n.err.Error()}
}

// ReleaseVIPs is the dead-man switch's hand: drop an instance's VIPs.
func ReleaseVIPs(cfg vrrp.Config) error {
	return vrrp.ReleaseVIPs(cfg, nil)
}

// BindGroups returns Deps.Bind: it ties the instances of each sync group together.
func BindGroups(log *slog.Logger) func(*conf.Config, map[string]VRRP) error {
	return func(cfg *conf.Config, built map[string]VRRP) error {
		var errs []error
		for _, g := range cfg.SyncGroups {
			var members []*vrrp.Instance
			for _, name := range g.Instances {
				if v, ok := built[name].(*vrrpInstance); ok {
					members = append(members, v.Instance)
				}
			}
			if _, err := vrrp.NewGroup(g, members, log); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}
