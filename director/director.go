package director

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/havsd/havsd/checks"
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

	// The reload mailbox: Reload adds its reply under reloadMu and kicks
	// the loop; the loop takes every waiting reply and answers them all
	// with one load.
	reloadMu   sync.Mutex
	waiting    []chan<- ReloadStatus
	reloadKick chan struct{} // buffered(1): a burst of requests is one kick
	loaded     chan loadDone // a load finished off the loop (reloadNow)

	reqCh    chan func()        // closures run on the director goroutine
	events   chan instanceEvent // from the instances' reporters and exits
	healthCh chan HealthChange  // from the check scheduler
	quit     chan struct{}      // closed when Run returns

	// Owned by the Run goroutine.
	cfg       *conf.Config
	health    Health
	instances map[string]*instance             // running, by name
	stopping  map[conf.InstanceKey]*instance   // cancelled, not yet returned
	deferred  map[conf.InstanceKey]vrrp.Config // added, waiting for a stopping one with their key
	up        map[RealKey]bool
	weights   map[RealKey]checks.Weight // what checks do to weights (filecheck.go)
	ids       *realIDs                  // health-check IDs of the running config (realids.go)
	draining  map[lvs.ServiceKey][]Drain
	reload    ReloadStatus
	// last is the desired table last handed to the reconciler, with the
	// quorum state of each service: status and metrics read it.
	last Outcome
	// replaced are the instances a reload replaced, by name, until their
	// replacement is elected.
	replaced map[string]replacement
	trk      *trackRun // vrrp_script, track_file, track_process (track.go)
	bgp      bgpRun    // the BGP speaker and announcements (bgp.go)
	started  time.Time
	wg       sync.WaitGroup
}

// New returns a director for the given initial configuration. It does no I/O.
func New(cfg *conf.Config, configFile string, deps Deps, log *slog.Logger) *Director {
	deps.Clock = clock.OrReal(deps.Clock)
	return &Director{
		deps:       deps,
		log:        log.With("component", "director"),
		configFile: configFile,
		reloadKick: make(chan struct{}, 1),
		loaded:     make(chan loadDone),
		reqCh:      make(chan func()),
		events:     make(chan instanceEvent, 64),
		healthCh:   make(chan HealthChange, 256),
		quit:       make(chan struct{}),
		cfg:        cfg,
		instances:  make(map[string]*instance),
		stopping:   make(map[conf.InstanceKey]*instance),
		up:         make(map[RealKey]bool),
		weights:    make(map[RealKey]checks.Weight),
		draining:   make(map[lvs.ServiceKey][]Drain),
		trk:        newTrackRun(log, deps.Clock),
	}
}

// RequestReload asks for a reload and returns at once. Requests made while
// one is pending join it: a burst of them loads the file once.
func (d *Director) RequestReload() { d.requestReload(nil) }

// Reload asks for a reload and waits for its outcome. Every request waiting
// when the director gets to it is answered by the same load, which starts
// after the request was made.
func (d *Director) Reload(ctx context.Context) (ReloadStatus, error) {
	reply := make(chan ReloadStatus, 1)
	d.requestReload(reply)
	select {
	case st := <-reply:
		return st, nil
	case <-ctx.Done():
		return ReloadStatus{}, ctx.Err()
	case <-d.quit:
		return ReloadStatus{}, errStopped
	}
}

var errStopped = errors.New("the director has stopped")

// requestReload queues reply (nil: nobody waits) and kicks the loop. It
// never blocks beyond the mailbox's lock.
func (d *Director) requestReload(reply chan<- ReloadStatus) {
	if reply != nil {
		d.reloadMu.Lock()
		d.waiting = append(d.waiting, reply)
		d.reloadMu.Unlock()
	}
	select {
	case d.reloadKick <- struct{}{}:
	default: // a reload is pending and will read the file after us
	}
}

// loadDone is a load made off the loop and the requests it answers.
type loadDone struct {
	l       Loaded
	waiting []chan<- ReloadStatus
}

// reloadNow takes every request waiting and loads the file once for them on
// a goroutine of its own: parsing and validating a large file must not hold
// up health transitions and VRRP events. The loop applies the result when
// it arrives (reloaded) and takes no other kick meanwhile.
func (d *Director) reloadNow(ctx context.Context) {
	d.reloadMu.Lock()
	waiting := d.waiting
	d.waiting = nil
	d.reloadMu.Unlock()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		l := d.deps.Load()
		select {
		case d.loaded <- loadDone{l, waiting}:
		case <-ctx.Done():
		}
	}()
}

// reloaded applies a finished load and answers the requests it was for.
func (d *Director) reloaded(ld loadDone) {
	st := d.doReload(ld.l)
	for _, reply := range ld.waiting {
		reply <- st // each reply has room for one value
	}
}

// do runs f on the director goroutine and waits for it.
func (d *Director) do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case d.reqCh <- func() { f(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	case <-d.quit:
		return errStopped
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status returns a snapshot of the director's state. The BGP speaker's
// sessions are read off the director goroutine.
func (d *Director) Status(ctx context.Context) (Status, error) {
	var st Status
	var sp Speaker
	err := d.do(ctx, func() { st, sp = d.status(), d.bgp.sp })
	st.BGP.withSpeaker(sp)
	return st, err
}

// Run runs the director until ctx is done, then stops every instance
// gracefully. The IPVS table is left programmed so that a restart does not
// drop connections.
func (d *Director) Run(ctx context.Context) error {
	defer close(d.quit)
	d.started = d.deps.Clock.Now()
	runCtx, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()

	d.health = d.deps.NewHealth(d.healthCh)
	d.goRun(runCtx, "health", d.health.Run)
	d.goRun(runCtx, "ipvs", d.deps.IPVS.Run)
	d.startSync(runCtx)
	d.ids = newRealIDs(d.cfg)
	d.health.Set(checkTargets(d.cfg))
	for _, ic := range d.cfg.Instances {
		if _, err := d.buildInstance(ic); err != nil {
			cancelAll()
			d.wg.Wait()
			return err
		}
	}
	if d.deps.Bind != nil {
		if err := d.deps.Bind(d.cfg); err != nil {
			cancelAll()
			d.wg.Wait()
			return fmt.Errorf("binding sync groups: %w", err)
		}
	}
	for _, in := range d.instances {
		d.runInstance(in)
	}
	d.apply()
	d.startTrackers(runCtx)
	d.startBGP(runCtx) // bgp.go

	const tickEvery = time.Second // drains expire, the dead-man switch looks
	tick := d.deps.Clock.NewTimer(tickEvery)
	defer tick.Stop()
	loading := false
	done := ctx.Done()
	stop := func() {
		d.logStopping()
		d.stopInstances()
		d.stopSpeaker() // bgp.go: after the stop's wait
		cancelAll()
		d.stopTrackers()
		d.omega() // hooks.go
		d.wg.Wait()
	}
	for {
		kick := d.reloadKick
		if loading {
			kick = nil // the next kick waits in its buffer for this load
		}
		select {
		case <-done:
			if d.beginStop() { // bgpdrain.go: announced routes go first
				done = nil
				continue
			}
			stop()
			return nil
		case ev := <-d.events:
			d.onInstanceEvent(ev)
		case hc := <-d.healthCh:
			d.onHealth(hc)
		case st := <-d.trk.ch:
			d.onTrackState(st)
			d.announce()
		case ls := <-d.bgp.links.ch:
			d.onLink(ls) // bgplinks.go
		case <-kick:
			loading = true
			d.reloadNow(runCtx)
		case ld := <-d.loaded:
			loading = false
			d.reloaded(ld)
		case f := <-d.reqCh:
			f()
		case <-tick.C():
			tick.Reset(tickEvery)
			d.watchdog()
			if d.expireDrains() {
				d.apply()
			}
			if d.bgpTick() { // the stop's wait is over
				stop()
				return nil
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
		Weights:    d.weights,
		Files:      d.trk.states,
		Master:     make(map[string]bool, len(d.instances)),
		Quorum:     d.last.Quorum,
		Draining:   d.draining,
		MasterOnly: d.cfg.Global.IPVSMode == conf.IPVSMasterOnly,
	}
	for name, i := range d.instances {
		in.Master[name] = i.master()
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

// applyServices recomputes the services whose health changed.
func (d *Director) applyServices(keys []lvs.ServiceKey) {
	was := make([]lvs.QuorumState, len(keys))
	for i, k := range keys {
		was[i] = d.last.Quorum[k]
	}
	if !d.last.Update(d.cfg, d.inputs(), keys...) {
		d.apply()
		return
	}
	for i, k := range keys {
		d.logQuorum(k, was[i], d.last.Quorum[k])
	}
	d.publish()
}

func (d *Director) logQuorum(k lvs.ServiceKey, was, q lvs.QuorumState) {
	if was != q && (was != lvs.QuorumUnknown || q == lvs.QuorumLost) {
		d.log.Warn("quorum changed", "service", k.String(), "old", was.String(), "new", q.String())
		d.quorumHook(k, q) // hooks.go
	}
}

// publish hands the desired table to the reconciler and applies the
// priority deltas of tracked services, with the trackers' (track.go).
func (d *Director) publish() {
	d.deps.IPVS.SetDesired(d.last.Desired)
	for name, delta := range PriorityDeltas(d.cfg, d.last.Quorum) {
		if in, ok := d.instances[name]; ok && in.delta != delta {
			d.log.Warn("tracked services lower the VRRP priority", "instance", name, "by", delta, "was", in.delta)
			in.delta = delta
		}
	}
	d.pushPriorities()
	d.announce() // bgp.go
}

// onHealth records a health transition, with those already queued behind
// it, and recomputes the services they change: a burst (10,000 checks
// failing at start, a switch going down) costs one copy of the table and
// one hand-over to the reconciler per burst, not per real server.
func (d *Director) onHealth(hc HealthChange) {
	var changed []lvs.ServiceKey
	changed = d.health1(hc, changed)
	for n := len(d.healthCh); n > 0; n-- {
		changed = d.health1(<-d.healthCh, changed)
	}
	if len(changed) > 0 {
		d.applyServices(changed)
	}
}

// health1 records one transition and adds its service to changed.
func (d *Director) health1(hc HealthChange, changed []lvs.ServiceKey) []lvs.ServiceKey {
	k, ok := d.ids.lookup(hc.ID)
	if !ok {
		return changed // a target of an older configuration
	}
	if was, ok := d.up[k]; ok && was == hc.Up && d.weights[k] == hc.Weight {
		return changed
	}
	d.healthHook(k, hc.Up)    // hooks.go
	d.up[k] = hc.Up           // the scheduler has logged the transition
	d.setWeight(k, hc.Weight) // filecheck.go
	if !slices.Contains(changed, k.Service) {
		changed = append(changed, k.Service)
	}
	return changed
}

// logStopping says what a stop waits for: each master advertises priority
// 0 and keeps its VIPs until a backup takes over, which without any backup
// takes the Master_Down_Interval the VRRP timers give.
func (d *Director) logStopping() {
	var masters []string
	var wait time.Duration
	for name, in := range d.instances {
		if in.master() {
			masters = append(masters, name)
			wait = max(wait, vrrp.MasterDownInterval(in.cfg.Version, in.cfg.Priority, in.cfg.AdvertInterval))
		}
	}
	if len(masters) == 0 {
		d.log.Info("stopping: no instance is master here, nothing to hand over")
		return
	}
	slices.Sort(masters)
	d.log.Info("stopping: masters advertise priority 0 and keep their VIPs until a backup takes over; "+
		"with no backup answering that takes Master_Down_Interval", "masters", strings.Join(masters, ","), "at_most", wait.Round(time.Millisecond))
}
