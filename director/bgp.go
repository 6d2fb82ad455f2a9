package director

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/havsd/havsd/bgp"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
)

// Speaker is the embedded BGP speaker (*bgp.Speaker) as the director drives
// it. Only Run blocks; SetRoutes and Reconfigure never wait on the network.
type Speaker interface {
	Run(ctx context.Context) error
	// SetRoutes replaces the set of routes to announce.
	SetRoutes(rs []bgp.Route)
	// Reconfigure applies a reloaded bgp block (neighbours by difference).
	Reconfigure(cfg bgp.Config) error
	// Status reads the sessions and the announced routes from the speaker.
	Status() bgp.Status
}

// Announce is the announcement of one BGP VIP as the pure Announcements
// decides it.
type Announce struct {
	Prefix   netip.Prefix // the VIP as a /32 or /128
	Services []string     // the services on it, by name
	// Announce is true while the route is to be announced.
	Announce bool
	// GracefulShutdown re-announces the route with RFC 8326's
	// GRACEFUL_SHUTDOWN community while havsd stops.
	GracefulShutdown bool
	Reason           string
}

// AnnounceInputs are what the announcement of BGP services depends on
// besides the configuration.
type AnnounceInputs struct {
	// IPVS is false on a kernel without IPVS: a service cannot be
	// programmed there, so being programmed is not required.
	IPVS bool
	// Programmed holds the services present in the kernel's IPVS table as
	// the reconciler last read it (not the desired table).
	Programmed map[lvs.ServiceKey]bool
	Quorum     map[lvs.ServiceKey]lvs.QuorumState
	// Unhealthy names the failing trackers; empty when none fails.
	Unhealthy string
	// Drained is set by havsd drain until havsd undrain.
	Drained bool
	// Stopping is set once havsd is asked to stop; GracefulShutdown then
	// keeps the routes that could be served, with the community, instead
	// of withdrawing them.
	Stopping, GracefulShutdown bool
}

// Announcements decides, for every VIP of a service with announce = "bgp",
// whether this director announces it and why: exactly while it can serve
// every service on that VIP (each in the kernel's table with quorum), no
// tracker fails, and havsd is neither drained nor stopping. The result is
// sorted by prefix.
func Announcements(cfg *conf.Config, in AnnounceInputs) []Announce {
	byVIP := map[netip.Prefix][]*conf.VirtualService{}
	for i := range cfg.Services {
		vs := &cfg.Services[i]
		if vs.Announce != conf.AnnounceBGP || !vs.Service.Key.Addr.IsValid() {
			continue // fwmark services have no address to announce (conf refuses them)
		}
		a := vs.Service.Key.Addr.Unmap()
		p := netip.PrefixFrom(a, a.BitLen())
		byVIP[p] = append(byVIP[p], vs)
	}
	out := make([]Announce, 0, len(byVIP))
	for _, p := range slices.SortedFunc(maps.Keys(byVIP), netip.Prefix.Compare) {
		a := Announce{Prefix: p}
		var cannot []string
		for _, vs := range byVIP[p] {
			a.Services = append(a.Services, vs.Name)
			if why := cannotServe(vs, in); why != "" {
				cannot = append(cannot, why)
			}
		}
		switch {
		case in.Stopping && in.GracefulShutdown && len(cannot) == 0 && in.Unhealthy == "" && !in.Drained:
			a.Announce, a.GracefulShutdown = true, true
			a.Reason = "havsd is stopping: announced with GRACEFUL_SHUTDOWN (RFC 8326) until traffic has moved"
		case in.Stopping:
			a.Reason = "havsd is stopping"
		case in.Drained:
			a.Reason = "drained (havsd drain; havsd undrain ends it)"
		case in.Unhealthy != "":
			a.Reason = "tracker failed: " + in.Unhealthy
		case len(cannot) > 0:
			a.Reason = strings.Join(cannot, "; ")
		default:
			a.Announce = true
			a.Reason = "serving: " + strings.Join(a.Services, ", ") + " programmed with quorum"
			if !in.IPVS {
				a.Reason = "serving: " + strings.Join(a.Services, ", ") + " with quorum (no IPVS on this kernel: not programmed)"
			}
		}
		out = append(out, a)
	}
	return out
}

// cannotServe says why this director cannot serve vs, or "" if it can.
func cannotServe(vs *conf.VirtualService, in AnnounceInputs) string {
	k := vs.Service.Key
	if in.IPVS && !in.Programmed[k] {
		return fmt.Sprintf("service %s (%s) is not in the kernel's IPVS table", vs.Name, k)
	}
	switch q, ok := in.Quorum[k]; {
	case !ok || q == lvs.QuorumUnknown:
		return fmt.Sprintf("service %s has no quorum state yet", vs.Name)
	case q == lvs.QuorumLost:
		return fmt.Sprintf("service %s lost quorum", vs.Name)
	}
	return ""
}

// Routes are the routes the speaker announces for the decisions.
func Routes(as []Announce) []bgp.Route {
	var out []bgp.Route
	for _, a := range as {
		if a.Announce {
			out = append(out, bgp.Route{Prefix: a.Prefix, GracefulShutdown: a.GracefulShutdown, Reason: a.Reason})
		}
	}
	return out
}

// BGPConfig converts the bgp block to the speaker's configuration.
func BGPConfig(c *conf.BGP) bgp.Config {
	out := bgp.Config{
		ASN:         c.ASN,
		RouterID:    c.RouterID,
		ListenPort:  c.ListenPort,
		Communities: slices.Clone(c.Communities),
	}
	for _, n := range c.Neighbors {
		out.Neighbors = append(out.Neighbors, bgp.Neighbor{
			Address:  n.Address,
			ASN:      n.ASN,
			HoldTime: n.HoldTime,
			Password: n.Password,
			Source:   n.Source,
			Multihop: n.Multihop,
			Port:     n.Port,
		})
	}
	return out
}

// bgpRun is the director's side of BGP, owned by the Run goroutine: the
// speaker and its configuration, the decisions last made, the drain.
type bgpRun struct {
	ctx    context.Context // Run's, for a speaker started by a reload
	sp     Speaker
	cancel context.CancelFunc // stops sp
	cfg    bgp.Config
	last   []Announce
	since  map[netip.Prefix]time.Time // when each decision last changed
	routes []bgp.Route                // last handed to the speaker
	loVIPs []netip.Prefix             // last handed to the loopback
	// drain is havsd drain's (nil when not drained); stop is the wait of a
	// stopping director for its traffic to move (nil until it stops).
	drain, stop *bgpWait
	links       bgpLinks // track_interface (bgplinks.go)
}

// startBGP starts the speaker and the loopback VIPs when the configuration
// has a bgp block.
func (d *Director) startBGP(ctx context.Context) {
	d.bgp.ctx = ctx
	if d.deps.Loopback != nil {
		d.goRun(ctx, "loopback VIPs", d.deps.Loopback.Run)
	}
	if d.cfg.BGP != nil {
		d.startSpeaker(BGPConfig(d.cfg.BGP))
	}
	d.watchLinks()
	d.announce()
}

// startSpeaker builds and runs a speaker for cfg; a failure is logged and
// leaves BGP off until the next reload.
func (d *Director) startSpeaker(cfg bgp.Config) {
	if d.deps.NewBGP == nil {
		d.log.Error("a bgp block is configured but this build has no BGP speaker")
		return
	}
	sp, err := d.deps.NewBGP(cfg)
	if err != nil {
		d.log.Error("BGP speaker not started", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(d.bgp.ctx)
	d.bgp.sp, d.bgp.cancel, d.bgp.cfg, d.bgp.routes = sp, cancel, cfg, nil
	d.goRun(ctx, "bgp", sp.Run)
	d.log.Info("BGP speaker started", "asn", cfg.ASN, "router_id", cfg.RouterID.String(), "neighbors", len(cfg.Neighbors))
}

// stopSpeaker stops the speaker (its sessions close, so its routes go) and
// forgets it; Run's wait group waits for it.
func (d *Director) stopSpeaker() {
	if d.bgp.sp == nil {
		return
	}
	d.bgp.cancel()
	d.bgp.sp, d.bgp.cancel, d.bgp.routes = nil, nil, nil
}

// reloadBGP applies a reloaded bgp block: start, stop or reconfigure the
// speaker by difference. The announcements follow in apply.
func (d *Director) reloadBGP(old, cur *conf.Config) []string {
	d.watchLinks()
	switch {
	case old.BGP == nil && cur.BGP == nil:
		return nil
	case cur.BGP == nil:
		d.stopSpeaker()
		d.bgp.drain = nil // a bgp block added later starts undrained
		return []string{"bgp removed"}
	case d.bgp.sp == nil:
		d.startSpeaker(BGPConfig(cur.BGP))
		return []string{"bgp added"}
	}
	next := BGPConfig(cur.BGP)
	if bgpEqual(d.bgp.cfg, next) {
		return nil
	}
	if err := d.bgp.sp.Reconfigure(next); err != nil {
		d.log.Error("reload: BGP not reconfigured; the running speaker keeps its configuration", "err", err)
		return []string{"bgp not reconfigured: " + err.Error()}
	}
	d.bgp.cfg = next
	return []string{"bgp updated"}
}

func bgpEqual(a, b bgp.Config) bool {
	return a.ASN == b.ASN && a.RouterID == b.RouterID && a.ListenPort == b.ListenPort &&
		slices.Equal(a.Communities, b.Communities) && slices.Equal(a.Neighbors, b.Neighbors)
}

// announceInputs gathers the inputs of Announcements from the director's state.
func (d *Director) announceInputs() AnnounceInputs {
	in := AnnounceInputs{
		IPVS:       d.deps.IPVS.Status().Available,
		Programmed: map[lvs.ServiceKey]bool{},
		Quorum:     d.last.Quorum,
		Unhealthy:  joinNonEmpty(d.failingTrackers(), d.downLinks()),
		Drained:    d.bgp.drain != nil,
		Stopping:   d.bgp.stop != nil,
	}
	if d.cfg.BGP != nil {
		in.GracefulShutdown = d.cfg.BGP.GracefulShutdown
	}
	for _, s := range d.deps.IPVS.Observed() {
		in.Programmed[s.Key] = true
	}
	return in
}

func joinNonEmpty(ss ...string) string {
	return strings.Join(slices.DeleteFunc(ss, func(s string) bool { return s == "" }), "; ")
}

// hasBGPServices reports whether a service of cfg is announced by BGP.
func hasBGPServices(cfg *conf.Config) bool {
	for i := range cfg.Services { // by index: a service is a large struct
		if cfg.Services[i].Announce == conf.AnnounceBGP {
			return true
		}
	}
	return false
}

// failingTrackers names the vrrp_script, track_file and track_process
// trackers that have failed: every tracker of the configuration gates the
// BGP announcements, whatever its weight for VRRP instances (as every
// track_interface does, bgplinks.go).
func (d *Director) failingTrackers() string {
	var failed []string
	for _, k := range d.cfg.Trackers.Spec.Keys() {
		if s, ok := d.trk.states[k]; ok && s.Known && !s.OK {
			why := k.String()
			if s.Last != "" {
				why += " (" + s.Last + ")"
			}
			failed = append(failed, why)
		}
	}
	return strings.Join(failed, "; ")
}

// announce decides the announcements again, logs each change with its
// reason, and hands the routes to the speaker and the VIPs to the loopback
// when they changed. It runs on the director goroutine after anything the
// decision depends on may have changed.
func (d *Director) announce() {
	if len(d.bgp.last) == 0 && !hasBGPServices(d.cfg) {
		return // nothing announced, nothing to announce
	}
	if d.bgp.since == nil {
		d.bgp.since = map[netip.Prefix]time.Time{}
	}
	now := d.deps.Clock.Now()
	cur := Announcements(d.cfg, d.announceInputs())
	prev := make(map[netip.Prefix]Announce, len(d.bgp.last))
	for _, a := range d.bgp.last {
		prev[a.Prefix] = a
	}
	for _, a := range cur {
		was, known := prev[a.Prefix]
		if known && was.Announce == a.Announce && was.GracefulShutdown == a.GracefulShutdown {
			if was.Reason != a.Reason {
				d.log.Debug("BGP VIP reason changed", "vip", a.Prefix.String(), "reason", a.Reason)
			}
			continue
		}
		d.bgp.since[a.Prefix] = now
		switch {
		case a.GracefulShutdown:
			d.log.Warn("BGP VIP re-announced with GRACEFUL_SHUTDOWN", "vip", a.Prefix.String(), "reason", a.Reason)
		case a.Announce:
			d.log.Info("BGP VIP announced", "vip", a.Prefix.String(), "reason", a.Reason)
		case known && was.Announce:
			d.log.Warn("BGP VIP withdrawn", "vip", a.Prefix.String(), "reason", a.Reason)
		default:
			d.log.Info("BGP VIP not announced", "vip", a.Prefix.String(), "reason", a.Reason)
		}
	}
	for p := range prev {
		if !slices.ContainsFunc(cur, func(a Announce) bool { return a.Prefix == p }) {
			if prev[p].Announce {
				d.log.Info("BGP VIP withdrawn", "vip", p.String(), "reason", "no longer announced by any service")
			}
			delete(d.bgp.since, p)
		}
	}
	d.bgp.last = cur
	if routes := Routes(cur); d.bgp.sp != nil && !slices.Equal(routes, d.bgp.routes) {
		d.bgp.sp.SetRoutes(routes)
		d.bgp.routes = routes
	}
	d.setLoopback(cur)
}

// setLoopback hands the loopback the VIPs of every BGP service, announced
// or not: a withdrawn VIP keeps serving the flows already established
// (drain), and goes only when no service announces it any more or havsd
// stops.
func (d *Director) setLoopback(cur []Announce) {
	if d.deps.Loopback == nil {
		return
	}
	vips := make([]netip.Prefix, 0, len(cur))
	for _, a := range cur {
		vips = append(vips, a.Prefix)
	}
	if !slices.Equal(vips, d.bgp.loVIPs) {
		d.deps.Loopback.Set(vips)
		d.bgp.loVIPs = vips
	}
}
