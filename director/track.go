package director

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/internal/clock"
	"github.com/havsd/havsd/track"
)

// TrackerStatus is one vrrp_script, track_file or track_process tracker as
// `havsd status --json` prints it.
type TrackerStatus struct {
	Kind  string    `json:"kind"`  // "vrrp_script", "track_file", "track_process"
	Name  string    `json:"name"`  // the block label
	State string    `json:"state"` // "ok", "failed", "unknown" (no result yet)
	Value int       `json:"value"` // a track_file's integer, a track_process's process count
	Last  string    `json:"last,omitempty"`
	At    time.Time `json:"at,omitzero"`    // when Last was observed
	Since time.Time `json:"since,omitzero"` // when State last changed
	// UsedBy lists the instances that follow the tracker, with what it
	// does to each now.
	UsedBy []TrackerUse `json:"used_by"`
}

// TrackerUse is one instance's use of a tracker.
type TrackerUse struct {
	Instance string `json:"instance"`
	Weight   int    `json:"weight"`
	Delta    int    `json:"delta"` // added to the priority now
	Fault    bool   `json:"fault"` // puts the instance in FAULT now
}

// trackRun is the director's side of the trackers: the running set, their
// latest states (owned by the director goroutine) and what each instance
// was last told.
type trackRun struct {
	set    *track.Set
	ch     chan track.State
	ctx    context.Context
	states map[track.Key]track.State
	pushed map[*instance]pushedTrack
}

// pushedTrack is what an instance was last told about its priority.
type pushedTrack struct {
	lower int    // LowerPriority's argument: tracked services, trackers, interface bonus
	fault string // SetTrackFault's argument
}

func newTrackRun(log *slog.Logger, clk clock.Clock) *trackRun {
	ch := make(chan track.State, 64)
	set := track.NewSet(log, ch)
	set.Clock = clk
	return &trackRun{set: set, ch: ch, states: map[track.Key]track.State{}, pushed: map[*instance]pushedTrack{}}
}

// startTrackers runs the configuration's trackers under ctx and gives every
// instance its starting priority (positive track_interface weights count
// from the start).
func (d *Director) startTrackers(ctx context.Context) {
	d.trk.ctx = ctx
	d.trk.set.Apply(ctx, d.cfg.Trackers.Spec)
	d.pushPriorities()
}

// stopTrackers stops every tracker and waits for them.
func (d *Director) stopTrackers() { d.trk.set.Stop() }

// onTrackState records a tracker's new state and applies its effect.
func (d *Director) onTrackState(st track.State) {
	if !slices.Contains(d.cfg.Trackers.Spec.Keys(), st.Key) {
		return // a tracker of an older configuration
	}
	old := d.trk.states[st.Key]
	d.trk.states[st.Key] = st
	d.pushPriorities()
	if st.Key.Kind == track.KindFile && old.Value != st.Value && usesFile(d.cfg, st.Key) {
		d.onFileCheck(old, st) // filecheck.go
	}
}

// reloadTrackers applies a reloaded configuration's trackers: unchanged ones
// keep running with their state.
func (d *Director) reloadTrackers(old, cur *conf.Config) []string {
	if reflect.DeepEqual(old.Trackers, cur.Trackers) {
		return nil
	}
	d.trk.set.Apply(d.trk.ctx, cur.Trackers.Spec)
	keys := cur.Trackers.Spec.Keys()
	maps.DeleteFunc(d.trk.states, func(k track.Key, _ track.State) bool { return !slices.Contains(keys, k) })
	maps.Copy(d.trk.states, d.trk.set.States())
	d.pushPriorities()
	return []string{"trackers changed"}
}

// pushPriorities tells every instance whose priority or tracker fault
// changed.
func (d *Director) pushPriorities() {
	maps.DeleteFunc(d.trk.pushed, func(in *instance, _ pushedTrack) bool { return d.instances[in.cfg.Name] != in })
	for name, in := range d.instances {
		d.pushPriority(name, in)
	}
}

// pushPriority combines what lowers or raises an instance's priority: its
// tracked services (in.delta), its trackers and the bonus of its positive
// track_interface weights; a failing tracker with weight 0 faults it.
func (d *Director) pushPriority(name string, in *instance) {
	refs := d.cfg.Trackers.Refs[name]
	eff := track.Effect(refs, d.trk.states)
	p := pushedTrack{lower: in.delta - eff.Delta - d.cfg.Trackers.Bonus(name)}
	if eff.Fault {
		p.fault = faultReason(refs, d.trk.states)
	}
	was, told := d.trk.pushed[in]
	if !told || was.lower != p.lower {
		if told {
			d.log.Info("VRRP priority adjusted", "instance", name, "by", -p.lower, "was", -was.lower,
				"tracked_services", -in.delta, "trackers", eff.Delta)
		}
		in.vrrp.LowerPriority(p.lower)
	}
	if was.fault != p.fault {
		if p.fault != "" {
			d.log.Warn("tracker puts the instance in FAULT", "instance", name, "reason", p.fault)
		} else if told {
			d.log.Info("trackers no longer hold the instance in FAULT", "instance", name)
		}
		in.vrrp.SetTrackFault(p.fault)
	}
	d.trk.pushed[in] = p
}

// faultReason names the failing weight-0 trackers.
func faultReason(refs []track.Ref, states map[track.Key]track.State) string {
	why := ""
	for _, r := range refs {
		if c := track.Contribute(r, states[r.Key]); c.Fault {
			if why != "" {
				why += "; "
			}
			s := states[r.Key]
			why += fmt.Sprintf("%s failed", r.Key)
			if s.Last != "" {
				why += " (" + s.Last + ")"
			}
		}
	}
	return why
}

// trackerStatus reports every tracker and its effect on each instance.
func (d *Director) trackerStatus() []TrackerStatus {
	var out []TrackerStatus
	for _, k := range d.cfg.Trackers.Spec.Keys() {
		s, known := d.trk.states[k]
		ts := TrackerStatus{Kind: k.Kind.String(), Name: k.Name, State: "unknown", UsedBy: []TrackerUse{}}
		if known && s.Known {
			ts.State = map[bool]string{true: "ok", false: "failed"}[s.OK]
			ts.Value, ts.Last, ts.At, ts.Since = s.Value, s.Last, s.At, s.Since
		}
		for _, name := range slices.Sorted(maps.Keys(d.cfg.Trackers.Refs)) {
			for _, r := range d.cfg.Trackers.Refs[name] {
				if r.Key == k {
					c := track.Contribute(r, s)
					ts.UsedBy = append(ts.UsedBy, TrackerUse{Instance: name, Weight: r.Weight, Delta: c.Delta, Fault: c.Fault})
				}
			}
		}
		out = append(out, ts)
	}
	return out
}
