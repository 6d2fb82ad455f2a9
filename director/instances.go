package director

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/vrrp"
)

// instance is a VRRP instance and the director's bookkeeping of it. Only
// the director goroutine touches it.
type instance struct {
	cfg    vrrp.Config
	vrrp   VRRP
	cancel context.CancelFunc // set by runInstance
	state  vrrp.State         // as last reported
	died   bool               // Run returned on its own
	last   *Transition
	count  uint64
	stuck  bool // the dead-man switch released its VIPs
	delta  int  // priority lowered by tracked services
	// siblings are the VRIDs of the other instances on its interface and
	// family, as last given to it.
	siblings []uint8
}

// master reports whether the instance is master here.
func (in *instance) master() bool { return in.state == vrrp.StateMaster && !in.died }

// instanceEvent is what an instance sends the director goroutine: a state
// change, or (exited) that its Run returned with err.
type instanceEvent struct {
	in     *instance
	change StateChange
	exited bool
	err    error
}

// buildInstance builds one VRRP instance and registers it; it does not run it.
func (d *Director) buildInstance(cfg vrrp.Config) (*instance, error) {
	in := &instance{cfg: cfg, state: vrrp.StateInit, siblings: siblings(d.cfg, cfg)}
	report := func(ctx context.Context, sc StateChange) {
		select {
		case d.events <- instanceEvent{in: in, change: sc}:
		case <-ctx.Done():
		case <-d.quit:
		}
	}
	v, err := d.deps.NewVRRP(cfg, in.siblings, report)
	if err != nil {
		return nil, fmt.Errorf("starting VRRP instance %s: %w", cfg.Name, err)
	}
	in.vrrp = v
	d.instances[cfg.Name] = in
	return in, nil
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

// runInstance starts an instance's loop on a goroutine of its own, which
// reports the loop's end to the director goroutine.
func (d *Director) runInstance(in *instance) {
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() {
		err := in.vrrp.Run(ctx)
		if ctx.Err() == nil {
			// The instance died on its own; its Run released its VIPs
			// before returning (the instance is their only owner).
			d.log.Error("VRRP instance stopped unexpectedly; its VIPs are released", "instance", in.cfg.Name, "err", err)
		}
		select {
		case d.events <- instanceEvent{in: in, exited: true, err: err}:
		case <-d.quit:
		}
	}()
}

// stopInstance cancels an instance taken out of d.instances. It does not
// wait: the instance's exit arrives as an event.
func (d *Director) stopInstance(in *instance) {
	in.cancel()
	if !in.died { // a dead one has returned already
		d.stopping[conf.KeyOf(in.cfg)] = in
	}
}

func (d *Director) onInstanceEvent(ev instanceEvent) {
	in := ev.in
	if ev.exited {
		d.onExit(in)
		return
	}
	if d.instances[in.cfg.Name] != in || in.died {
		return // removed, or its loop already reported its end
	}
	sc := ev.change
	in.state = sc.To
	d.settleReplaced()
	in.count++
	in.last = &Transition{From: stateName(sc.From, false), To: stateName(sc.To, false), Reason: sc.Reason, At: sc.At}
	if d.cfg.Global.IPVSMode == conf.IPVSMasterOnly {
		d.apply()
	}
}

// onExit handles the end of an instance's Run: a removed instance has
// stopped (a replacement waiting for its VRID may start); a running one has
// died.
func (d *Director) onExit(in *instance) {
	key := conf.KeyOf(in.cfg)
	if d.stopping[key] == in {
		delete(d.stopping, key)
		if cfg, ok := d.deferred[key]; ok {
			delete(d.deferred, key)
			if err := d.startInstance(cfg); err != nil {
				d.log.Error("starting instance", "instance", cfg.Name, "err", err)
				return
			}
			d.publish() // its priority: tracked services and trackers
		}
		return
	}
	if d.instances[in.cfg.Name] != in {
		return
	}
	was := in.master()
	in.last = &Transition{From: stateName(in.state, false), To: stateName(in.state, true), Reason: "instance loop died", At: d.deps.Clock.Now()}
	in.died = true
	in.count++
	if was && d.cfg.Global.IPVSMode == conf.IPVSMasterOnly {
		d.apply()
	}
}

// watchdog is the dead-man switch for instances whose loop stopped running
// without returning: a master that cannot advertise must not keep its VIPs,
// or there will be two masters. It asks each instance, which releases its
// own VIPs (never behind the loop's back) and re-enters the election when
// its loop runs again.
func (d *Director) watchdog() {
	d.settleReplaced()
	for name, in := range d.instances {
		if !in.master() {
			continue
		}
		released, silent, err := in.vrrp.ReleaseIfStalled()
		if released {
			d.log.Error("VRRP instance loop is stuck; it released its VIPs", "instance", name, "silent_for", silent)
		}
		if err != nil {
			d.log.Error("releasing VIPs", "instance", name, "err", err)
		}
	}
}

// stopInstances stops every instance gracefully when the director stops,
// and waits for them, bounded: this is the one place the director goroutine
// waits on instances, as it has nothing else left to do.
func (d *Director) stopInstances() {
	left := make(map[*instance]bool)
	bound := 2 * time.Second
	for _, in := range d.instances {
		d.stopInstance(in)
	}
	d.instances = nil
	for _, in := range d.stopping {
		left[in] = true
		bound = max(bound, 3*max(in.cfg.AdvertInterval, 10*time.Millisecond)+2*time.Second)
	}
	timer := d.deps.Clock.NewTimer(bound)
	defer timer.Stop()
	for len(left) > 0 {
		select {
		case ev := <-d.events:
			if ev.exited {
				delete(left, ev.in)
			}
		case <-timer.C():
			for in := range left {
				d.log.Error("VRRP instance did not stop in time", "instance", in.cfg.Name, "waited", bound)
			}
			return
		}
	}
}

// targets returns the instances named name (all if name is empty), for a
// command run off the director goroutine.
func (d *Director) targets(ctx context.Context, name string) (map[string]VRRP, error) {
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
	return targets, nil
}

// Handover asks the named instances (all if name is empty) to hand the master
// role over. It returns when every master has heard its successor.
func (d *Director) Handover(ctx context.Context, name string) ([]string, error) {
	targets, err := d.targets(ctx, name)
	if err != nil {
		return nil, err
	}
	var groups []vrrp.SyncGroup
	wasMaster := make(map[string]bool)
	if err := d.do(ctx, func() {
		for n, in := range d.instances {
			wasMaster[n] = in.master()
		}
		groups = d.cfg.SyncGroups
	}); err != nil {
		return nil, err
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
	return withGroups(done, groups, wasMaster), errors.Join(errs...)
}

// withGroups adds to the instances handed over the members of their sync
// groups that were master too: they moved with them ("VI_GW (sync group
// G)").
func withGroups(done []string, groups []vrrp.SyncGroup, wasMaster map[string]bool) []string {
	out := slices.Clone(done)
	for _, g := range groups {
		if !slices.ContainsFunc(g.Instances, func(n string) bool { return slices.Contains(done, n) }) {
			continue
		}
		for _, n := range g.Instances {
			if !slices.Contains(done, n) && wasMaster[n] {
				out = append(out, n+" (sync group "+g.Name+")")
			}
		}
	}
	return out
}

// Resume ends the yield after a handover of the named instances (all if
// name is empty), so they preempt again per their configuration (`havsd
// resume`). It returns the instances that were yielding.
func (d *Director) Resume(ctx context.Context, name string) ([]string, error) {
	targets, err := d.targets(ctx, name)
	if err != nil {
		return nil, err
	}
	resumed := []string{}
	for _, n := range slices.Sorted(maps.Keys(targets)) {
		if targets[n].Resume() {
			resumed = append(resumed, n)
		}
	}
	return resumed, nil
}

// InstanceStates lists every state InstanceStatus.State takes, in order.
func InstanceStates() []string {
	var out []string
	for _, s := range []vrrp.State{vrrp.StateInit, vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault} {
		out = append(out, stateName(s, false))
	}
	return append(out, stateName(vrrp.StateInvalid, true))
}

// stateName is an instance state as status and metrics show it; an instance
// whose loop died is "stopped".
func stateName(s vrrp.State, died bool) string {
	if died {
		return "stopped"
	}
	return strings.ToLower(s.String())
}
