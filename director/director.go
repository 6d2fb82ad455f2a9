package director

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/internal/clock"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

// Director owns the running state. Build it with New, start it with Run.
type Director struct {
	deps       Deps
	log        *slog.Logger
	configFile string

	reloadCh chan chan ReloadStatus // buffered(1): a burst of reloads is one
	reqCh    chan func()            // closures run on the director goroutine
	events   chan StateChange
	healthCh chan HealthChange

	// Owned by the Run goroutine.
	cfg       *conf.Config
	health    Health
	instances map[string]*instance
	up        map[RealKey]bool
	ids       map[string]RealKey // health-check IDs of the running config
	draining  map[lvs.ServiceKey][]Drain
	reload    ReloadStatus
	// last is the desired table last handed to the reconciler, with the
	// quorum state of each service.
	last    Outcome
	started time.Time
	wg      sync.WaitGroup
}

// instance is a running VRRP instance and its bookkeeping.
type instance struct {
	cfg    vrrp.Config
	vrrp   VRRP
	cancel context.CancelFunc
	done   chan struct{}
	state  string
	last   *Transition
	count  uint64
	stuck  bool // the dead-man switch released its VIPs
	delta  int  // priority lowered by tracked services
}

// New returns a director for the given initial configuration. It does no I/O.
func New(cfg *conf.Config, configFile string, deps Deps, log *slog.Logger) *Director {
	deps.Clock = clock.OrReal(deps.Clock)
	return &Director{
		deps:       deps,
		log:        log.With("component", "director"),
		configFile: configFile,
		reloadCh:   make(chan chan ReloadStatus, 1),
		reqCh:      make(chan func()),
		events:     make(chan StateChange, 64),
		healthCh:   make(chan HealthChange, 256),
		cfg:        cfg,
		instances:  make(map[string]*instance),
		up:         make(map[RealKey]bool),
		draining:   make(map[lvs.ServiceKey][]Drain),
	}
}

// Reload asks for a reload. It never blocks: while one is pending, further
// requests join it. If reply is non-nil it receives the outcome.
func (d *Director) Reload(reply chan ReloadStatus) {
	select {
	case d.reloadCh <- reply:
	default:
		if reply != nil {
			// A reload is already queued; it will read the same file.
			go func() {
				select {
				case d.reloadCh <- reply:
				case <-time.After(30 * time.Second):
				}
			}()
		}
	}
}

// do runs f on the director goroutine and waits for it.
func (d *Director) do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case d.reqCh <- func() { f(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status returns a snapshot of the director's state.
func (d *Director) Status(ctx context.Context) (Status, error) {
	var st Status
	err := d.do(ctx, func() { st = d.status() })
	return st, err
}

// Run runs the director until ctx is done, then stops every instance
// gracefully. The IPVS table is left programmed so that a restart does not
// drop connections.
func (d *Director) Run(ctx context.Context) error {
	d.started = d.deps.Clock.Now()
	runCtx, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()

	d.health = d.deps.NewHealth(d.healthCh)
	d.goRun(runCtx, "health", d.health.Run)
	d.goRun(runCtx, "ipvs", d.deps.IPVS.Run)
	targets, ids := Targets(d.cfg)
	d.ids = ids
	d.health.Set(targets)
	built := make(map[string]VRRP, len(d.cfg.Instances))
	for _, ic := range d.cfg.Instances {
		in, err := d.buildInstance(ic)
		if err != nil {
			cancelAll()
			d.wg.Wait()
			return err
		}
		built[ic.Name] = in.vrrp
	}
	if d.deps.Bind != nil {
		if err := d.deps.Bind(d.cfg, built); err != nil {
			cancelAll()
			d.wg.Wait()
			return fmt.Errorf("binding sync groups: %w", err)
		}
	}
	for _, in := range d.instances {
		d.runInstance(in)
	}
	d.apply()

	tick := d.deps.Clock.NewTimer(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			d.log.Info("stopping: releasing VIPs after handing over")
			d.stopInstances()
			cancelAll()
			d.wg.Wait()
			return nil
		case ev := <-d.events:
			d.onStateChange(ev)
		case hc := <-d.healthCh:
			d.onHealth(hc)
		case reply := <-d.reloadCh:
			st := d.doReload()
			if reply != nil {
				reply <- st
			}
		case f := <-d.reqCh:
			f()
		case <-tick.C():
			tick.Reset(time.Second)
			d.watchdog()
			if d.expireDrains() {
				d.apply()
			}
		}
	}
}

func (d *Director) goRun(ctx context.Context, name string, run func(context.Context) error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("component stopped", "part", name, "err", err)
		}
	}()
}

// inputs gathers what the desired table depends on besides the config.
func (d *Director) inputs() Inputs {
	in := Inputs{
		Health:     d.up,
		Master:     make(map[string]bool, len(d.instances)),
		Quorum:     d.last.Quorum,
		Draining:   d.draining,
		MasterOnly: d.cfg.Global.IPVSMode == conf.IPVSMasterOnly,
	}
	for name, i := range d.instances {
		in.Master[name] = i.state == "master"
	}
	return in
}

// apply recomputes the whole desired table and hands it to the reconciler.
func (d *Director) apply() {
	prev := d.last.Quorum
	d.last = Compute(d.cfg, d.inputs())
	for k, q := range d.last.Quorum {
		d.logQuorum(k, prev[k], q)
	}
	d.publish()
}

// applyService recomputes one service after its health changed.
func (d *Director) applyService(k lvs.ServiceKey) {
	was := d.last.Quorum[k]
	if !d.last.Update(d.cfg, d.inputs(), k) {
		d.apply()
		return
	}
	d.logQuorum(k, was, d.last.Quorum[k])
	d.publish()
}

func (d *Director) logQuorum(k lvs.ServiceKey, was, q lvs.QuorumState) {
	if was != q && (was != lvs.QuorumUnknown || q == lvs.QuorumLost) {
		d.log.Warn("quorum changed", "service", k.String(), "old", was.String(), "new", q.String())
	}
}

// publish hands the desired table to the reconciler and applies the
// priority deltas of tracked services.
func (d *Director) publish() {
	d.deps.IPVS.SetDesired(d.last.Desired)
	for name, delta := range PriorityDeltas(d.cfg, d.last.Quorum) {
		if in, ok := d.instances[name]; ok && in.delta != delta {
			d.log.Warn("tracked services lower the VRRP priority", "instance", name, "by", delta, "was", in.delta)
			in.delta = delta
			in.vrrp.LowerPriority(delta)
		}
	}
}

func (d *Director) onHealth(hc HealthChange) {
	k, ok := d.ids[hc.ID]
	if !ok {
		return // a target of an older configuration
	}
	if was, ok := d.up[k]; ok && was == hc.Up {
		return
	}
	d.up[k] = hc.Up // the scheduler has logged the transition
	d.applyService(k.Service)
}

func (d *Director) onStateChange(ev StateChange) {
	in, ok := d.instances[ev.Instance]
	if !ok {
		return
	}
	in.state = ev.To
	in.count++
	in.last = &Transition{From: ev.From, To: ev.To, Reason: ev.Reason, At: ev.At}
	if d.cfg.Global.IPVSMode == conf.IPVSMasterOnly {
		d.apply()
	}
}

// startInstance builds and runs one VRRP instance.
func (d *Director) startInstance(cfg vrrp.Config) error {
	in, err := d.buildInstance(cfg)
	if err != nil {
		return err
	}
	d.runInstance(in)
	return nil
}

// buildInstance builds one VRRP instance and registers it; it does not run it.
func (d *Director) buildInstance(cfg vrrp.Config) (*instance, error) {
	v, err := d.deps.NewVRRP(cfg, siblings(d.cfg, cfg), d.events)
	if err != nil {
		return nil, fmt.Errorf("starting VRRP instance %s: %w", cfg.Name, err)
	}
	in := &instance{cfg: cfg, vrrp: v, done: make(chan struct{}), state: "init"}
	d.instances[cfg.Name] = in
	return in, nil
}

// siblings returns the VRIDs of cfg's other instances on the same link and
// family: their adverts reach this instance's socket too.
func siblings(all *conf.Config, cfg vrrp.Config) []uint8 {
	var out []uint8
	for _, o := range all.Instances {
		if o.Interface == cfg.Interface && o.IPv6 == cfg.IPv6 && o.VRID != cfg.VRID {
			out = append(out, o.VRID)
		}
	}
	return out
}

// runInstance starts an instance's loop, with the dead-man switch around it.
func (d *Director) runInstance(in *instance) {
	cfg, v := in.cfg, in.vrrp
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() {
		defer close(in.done)
		err := v.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		// Dead-man switch: the instance died on its own. Never risk two
		// masters: drop its VIPs.
		d.log.Error("VRRP instance stopped unexpectedly; releasing its VIPs", "instance", cfg.Name, "err", err)
		if d.deps.ReleaseVIPs != nil {
			if rerr := d.deps.ReleaseVIPs(cfg); rerr != nil {
				d.log.Error("releasing VIPs", "instance", cfg.Name, "err", rerr)
			}
		}
		select {
		case d.events <- StateChange{Instance: cfg.Name, From: "", To: "stopped", Reason: "instance loop died", At: d.deps.Clock.Now()}:
		case <-time.After(5 * time.Second):
		}
	}()
}

// stuckAfter is how long a master's loop may go without running before the
// dead-man switch releases its VIPs: the loop ticks at least every second.
func stuckAfter(advert time.Duration) time.Duration { return 3*time.Second + 3*advert }

// watchdog is the dead-man switch for instances whose loop stopped running
// without returning: a master that cannot advertise must not keep its VIPs,
// or there will be two masters.
func (d *Director) watchdog() {
	now := d.deps.Clock.Now()
	for name, in := range d.instances {
		st := in.vrrp.Status()
		if st.Heartbeat.IsZero() || in.state != "master" {
			in.stuck = false
			continue
		}
		late := now.Sub(st.Heartbeat)
		if late <= stuckAfter(in.cfg.AdvertInterval) {
			in.stuck = false
			continue
		}
		if in.stuck {
			continue
		}
		in.stuck = true
		d.log.Error("VRRP instance loop is stuck; releasing its VIPs", "instance", name, "silent_for", late)
		if d.deps.ReleaseVIPs != nil {
			if err := d.deps.ReleaseVIPs(in.cfg); err != nil {
				d.log.Error("releasing VIPs", "instance", name, "err", err)
			}
		}
	}
}

// stopInstances stops every instance gracefully and waits, bounded.
func (d *Director) stopInstances() {
	for _, in := range d.instances {
		in.cancel()
	}
	for name, in := range d.instances {
		d.waitInstance(name, in)
	}
}

func (d *Director) waitInstance(name string, in *instance) {
	bound := 3*maxDuration(in.cfg.AdvertInterval, 10*time.Millisecond) + 2*time.Second
	select {
	case <-in.done:
	case <-time.After(bound):
		d.log.Error("VRRP instance did not stop in time", "instance", name, "waited", bound)
	}
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// Handover asks the named instances (all if name is empty) to hand the master
// role over. It returns when every master has heard its successor.
func (d *Director) Handover(ctx context.Context, name string) ([]string, error) {
	var targets map[string]VRRP
	err := d.do(ctx, func() {
		targets = make(map[string]VRRP)
		for n, in := range d.instances {
			if name == "" || n == name {
				targets[n] = in.vrrp
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no VRRP instance named %q", name)
	}
	var (
		mu        sync.Mutex
		done      []string
		notMaster []string
		errs      []error
		group     sync.WaitGroup
	)
	for _, n := range slices.Sorted(maps.Keys(targets)) {
		group.Add(1)
		go func() {
			defer group.Done()
			err := targets[n].Handover(ctx)
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, vrrp.ErrNotMaster) {
				// Not master here, or a sync-group member's handover
				// already took it along: nothing left to hand over.
				notMaster = append(notMaster, n)
				return
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", n, err))
				return
			}
			done = append(done, n)
		}()
	}
	group.Wait()
	if len(done) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("%s: not master here, nothing to hand over", strings.Join(slices.Sorted(slices.Values(notMaster)), ", "))
	}
	slices.Sort(done)
	return done, errors.Join(errs...)
}
