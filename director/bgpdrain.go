package director

import (
	"context"
	"errors"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
)

// DefaultDrainFor is how long havsd drain and a stop wait for the traffic
// of withdrawn BGP routes to move when the bgp block sets no drain_for:
// within the systemd unit's TimeoutStopSec (30 s) with room for the VRRP
// stop that follows.
const DefaultDrainFor = 20 * time.Second

// bgpWait is a wait for the traffic of the BGP services to move away once
// their routes are out of the speaker: havsd drain's, or a stopping
// director's. Its decisions are made by step, from what the director
// reads; it does no I/O.
type bgpWait struct {
	why          string // "drain", "stop"
	since, until time.Time
	// out is set once the speaker no longer announces the routes (or
	// announces them only with GRACEFUL_SHUTDOWN while stopping).
	out bool
	// asked is the reconciler's pass count when a full read was last
	// asked for; a larger count has read the table after the ask.
	asked  uint64
	read   bool // a full read after the routes went out has been seen
	active int  // active connections of the BGP services at that read
	moved  bool // that read found none
	ended  bool // logged as finished
}

// step advances the wait by one look. out says whether the routes are out
// of the speaker, passes is the reconciler's pass count, active the active
// connections of the BGP services as last read, ipvs whether the kernel has
// IPVS. It returns whether to ask the reconciler for a full read.
func (w *bgpWait) step(out bool, passes uint64, active int, ipvs bool) (trigger bool) {
	if w.moved {
		return false
	}
	if !w.out {
		if !out {
			return false
		}
		w.out = true
		if !ipvs {
			w.moved = true // no table, no connections to count
			return false
		}
		w.asked = passes
		return true
	}
	if passes <= w.asked {
		return false // the read asked for has not started yet
	}
	w.read, w.active = true, active
	if active == 0 {
		w.moved = true
		return false
	}
	w.asked = passes
	return true
}

// done reports whether the wait is over: traffic moved, or its time is up.
func (w *bgpWait) done(now time.Time) bool { return w.moved || !now.Before(w.until) }

// drainFor is the configured drain_for, or its default.
func (d *Director) drainFor() time.Duration {
	if d.cfg.BGP != nil && d.cfg.BGP.DrainFor > 0 {
		return d.cfg.BGP.DrainFor
	}
	return DefaultDrainFor
}

// ErrNoBGP is returned by Drain and Undrain when no bgp block is configured.
var ErrNoBGP = errors.New("no bgp block is configured: there is nothing to drain")

// Drain withdraws every BGP route and keeps serving the flows already
// established (havsd drain), until Undrain. The director then watches, for
// at most forDur (zero: the bgp block's drain_for), the active connections
// of the BGP services fall to zero; status reports that wait.
func (d *Director) Drain(ctx context.Context, forDur time.Duration) (BGPWaitStatus, error) {
	var st BGPWaitStatus
	var err error
	derr := d.do(ctx, func() {
		if d.cfg.BGP == nil {
			err = ErrNoBGP
			return
		}
		if forDur <= 0 {
			forDur = d.drainFor()
		}
		now := d.deps.Clock.Now()
		again := d.bgp.drain != nil
		d.bgp.drain = &bgpWait{why: "drain", since: now, until: now.Add(forDur)}
		d.log.Warn("drain: withdrawing every BGP route, serving established flows", "wait_at_most", forDur.String(), "again", again)
		d.announce()
		d.bgpWaits()
		st = d.bgp.drain.status()
	})
	if derr != nil {
		return st, derr
	}
	return st, err
}

// Undrain ends a drain: the BGP routes are announced again where the
// services can be served. It reports whether the director was drained.
func (d *Director) Undrain(ctx context.Context) (bool, error) {
	var was bool
	var err error
	derr := d.do(ctx, func() {
		if d.cfg.BGP == nil {
			err = ErrNoBGP
			return
		}
		was = d.bgp.drain != nil
		d.bgp.drain = nil
		if was {
			d.log.Warn("drain ended (havsd undrain): announcing the BGP routes that can be served again")
		}
		d.announce()
	})
	if derr != nil {
		return was, derr
	}
	return was, err
}

// beginStop starts the stop's wait when BGP routes are announced: they are
// withdrawn (or re-announced with GRACEFUL_SHUTDOWN) and the director keeps
// running until their traffic has moved, at most drain_for. It reports
// whether there is anything to wait for.
func (d *Director) beginStop() bool {
	if d.bgp.sp == nil || len(d.bgp.routes) == 0 {
		return false
	}
	now := d.deps.Clock.Now()
	wait := d.drainFor()
	d.bgp.stop = &bgpWait{why: "stop", since: now, until: now.Add(wait)}
	how := "withdrawing"
	if d.cfg.BGP.GracefulShutdown {
		how = "re-announcing with GRACEFUL_SHUTDOWN (RFC 8326)"
	}
	d.log.Warn("stopping: "+how+" the BGP routes, then waiting until traffic has moved", "wait_at_most", wait.String())
	d.announce()
	d.bgpWaits()
	return true
}

// bgpTick runs every tick of the director: a service may have entered or
// left the kernel's table, and the waits look at the connections. It
// reports whether a stop's wait is over.
func (d *Director) bgpTick() bool {
	d.announce()
	d.bgpWaits()
	return d.bgp.stop != nil && d.bgp.stop.done(d.deps.Clock.Now())
}

// bgpWaits advances the drain's and the stop's waits.
func (d *Director) bgpWaits() {
	if d.bgp.drain == nil && d.bgp.stop == nil {
		return
	}
	out := d.routesOut()
	ipvs := d.deps.IPVS.Status()
	active := -1 // read only when a wait needs it
	now := d.deps.Clock.Now()
	for _, w := range []*bgpWait{d.bgp.drain, d.bgp.stop} {
		if w == nil || w.ended {
			continue
		}
		if w.out && ipvs.Reconciles > w.asked && active < 0 {
			active = d.bgpActiveConns()
		}
		if w.step(out, ipvs.Reconciles, max(active, 0), ipvs.Available) {
			d.deps.IPVS.Trigger()
		}
		if w.done(now) {
			w.ended = true
			if w.moved {
				d.log.Info(w.why+": traffic has moved off the withdrawn BGP routes", "after", now.Sub(w.since).Round(time.Millisecond).String())
			} else {
				d.log.Warn(w.why+": drain_for is over with connections still active", "active_connections", w.active, "read", w.read)
			}
		}
	}
}

// routesOut reports whether the speaker's own table (gobgp's, read back)
// has no route it should not have any more: none outside the wanted set,
// and each wanted one with its GRACEFUL_SHUTDOWN flag.
func (d *Director) routesOut() bool {
	if d.bgp.sp == nil {
		return true
	}
	want := map[string]bool{}
	for _, r := range d.bgp.routes {
		want[r.Prefix.String()] = r.GracefulShutdown
	}
	for _, r := range d.bgp.sp.Status().Announced {
		gs, ok := want[r.Prefix.String()]
		if !ok || gs != r.GracefulShutdown {
			return false
		}
	}
	return true
}

// bgpActiveConns counts the active connections of the services announced
// by BGP, as the reconciler last read them.
func (d *Director) bgpActiveConns() int {
	bgpSvc := map[lvs.ServiceKey]bool{}
	for i := range d.cfg.Services {
		if d.cfg.Services[i].Announce == conf.AnnounceBGP {
			bgpSvc[d.cfg.Services[i].Service.Key] = true
		}
	}
	n := 0
	for _, s := range d.deps.IPVS.Observed() {
		if bgpSvc[s.Key] {
			for _, dst := range s.Destinations {
				n += dst.ActiveConns
			}
		}
	}
	return n
}

// status reports the wait.
func (w *bgpWait) status() BGPWaitStatus {
	return BGPWaitStatus{Since: w.since, Until: w.until, RoutesOut: w.out, Read: w.read,
		ActiveConns: w.active, Moved: w.moved}
}

// BGPWaitStatus is a drain's or a stop's wait for traffic to move.
type BGPWaitStatus struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"` // drain_for after Since
	// RoutesOut is set once the speaker no longer announces the routes.
	RoutesOut bool `json:"routes_out"`
	// Read is set once the kernel's table was read after that;
	// ActiveConns is what that read found on the BGP services.
	Read        bool `json:"read"`
	ActiveConns int  `json:"active_conns"`
	// Moved is set when a read found no active connection left.
	Moved bool `json:"moved"`
}
