package bgp

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/config/oc"
	"github.com/osrg/gobgp/v4/pkg/server"
)

// owner is the state Run's goroutine owns: the GoBGP server, the running
// configuration, the wanted routes and what it learnt about each neighbour.
type owner struct {
	s      *Speaker
	log    *slog.Logger
	cfg    Config
	comms  []uint32
	wanted map[netip.Prefix]Route
	peers  map[netip.Addr]*peerNote
	// startErr is why GoBGP is not running after a failed restart.
	startErr string
	// lastAnnounced is the wanted set at the last reconcile.
	lastAnnounced map[netip.Prefix]struct{}

	srv      *server.BgpServer
	serving  sync.WaitGroup
	watchEnd context.CancelFunc
}

// peerNote is what the owner learnt about a neighbour from GoBGP's events
// and log, for the log and Status.
type peerNote struct {
	state   string
	lastErr string
}

func newOwner(s *Speaker, cfg Config) *owner {
	o := &owner{s: s, log: s.log, wanted: map[netip.Prefix]Route{}, peers: map[netip.Addr]*peerNote{}}
	o.setConfig(cfg)
	return o
}

func (o *owner) setConfig(cfg Config) {
	o.cfg = cfg
	o.comms = o.comms[:0]
	for _, c := range cfg.Communities {
		v, _ := ParseCommunity(c) // validated by New and Reconfigure
		o.comms = append(o.comms, v)
	}
}

// start creates and starts GoBGP and adds the neighbours.
func (o *owner) start(ctx context.Context) error {
	o.peers = map[netip.Addr]*peerNote{}
	o.lastAnnounced = nil
	h := &hookHandler{inner: o.log.Handler(), post: o.s.post}
	o.srv = server.NewBgpServer(server.LoggerOption(slog.New(h).With("component", "gobgp"), nil))
	o.serving.Add(1)
	go func() {
		defer o.serving.Done()
		o.srv.Serve()
	}()
	if err := o.startGlobal(ctx); err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(context.Background())
	o.watchEnd = cancel
	err := o.srv.WatchEvent(wctx, server.WatchEventMessageCallbacks{
		OnPeerUpdate: func(ev *apiutilPeerEvent, _ time.Time) { o.onPeerEvent(ctx, ev) },
	}, server.WatchPeer())
	if err != nil {
		return fmt.Errorf("watching bgp neighbours: %w", err)
	}
	for _, n := range o.cfg.Neighbors {
		o.addPeer(ctx, n)
	}
	o.log.Info("bgp speaker started", "asn", o.cfg.ASN, "router_id", o.cfg.RouterID,
		"listen_port", o.cfg.ListenPort, "neighbors", len(o.cfg.Neighbors))
	return nil
}

// importPolicy names the import policy that keeps only local routes.
const importPolicy = "havsd-local-only"

// startGlobal starts the BGP instance: local AS, router id, listening, and
// an import policy rejecting every received route.
func (o *owner) startGlobal(ctx context.Context) error {
	port := int32(o.cfg.ListenPort)
	if port == 0 {
		port = -1 // GoBGP: do not listen
	}
	err := o.srv.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn:        o.cfg.ASN,
		RouterId:   o.cfg.RouterID.String(),
		ListenPort: port,
		// Only the tables havsd uses: GoBGP makes one per family, and
		// its default (every family it knows) costs about 7 MB at rest.
		Families: []uint32{uint32(oc.AFI_SAFI_TYPE_IPV4_UNICAST.ToInt()), uint32(oc.AFI_SAFI_TYPE_IPV6_UNICAST.ToInt())},
	}})
	if err != nil {
		return fmt.Errorf("starting bgp (asn %d, router id %v, listen port %d): %w", o.cfg.ASN, o.cfg.RouterID, o.cfg.ListenPort, err)
	}
	// GoBGP applies the global import policy to local routes too: accept
	// those, reject everything received.
	err = o.srv.AddPolicy(ctx, &api.AddPolicyRequest{Policy: &api.Policy{
		Name: importPolicy,
		Statements: []*api.Statement{{
			Name:       importPolicy + "-local",
			Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_LOCAL},
			Actions:    &api.Actions{RouteAction: api.RouteAction_ROUTE_ACTION_ACCEPT},
		}},
	}})
	if err != nil {
		return fmt.Errorf("adding the bgp import policy: %w", err)
	}
	err = o.srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Name:          "global",
		Direction:     api.PolicyDirection_POLICY_DIRECTION_IMPORT,
		Policies:      []*api.Policy{{Name: importPolicy}},
		DefaultAction: api.RouteAction_ROUTE_ACTION_REJECT,
	}})
	if err != nil {
		return fmt.Errorf("setting the bgp import policy: %w", err)
	}
	return nil
}

// stop closes the sessions (neighbours withdraw our routes at once) and
// waits for GoBGP to end.
func (o *owner) stop() {
	if o.srv == nil {
		return
	}
	o.srv.Stop()
	o.serving.Wait()
	if o.watchEnd != nil {
		o.watchEnd()
	}
	o.srv, o.watchEnd = nil, nil
	o.log.Info("bgp speaker stopped")
}

func (o *owner) loop(ctx context.Context) {
	tick := time.NewTicker(reconcileEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.s.kick:
			if rs, ok := o.s.takeRoutes(); ok {
				o.setWanted(rs)
			}
			o.reconcile(ctx)
		case <-tick.C:
			o.reconcile(ctx)
		case ev := <-o.s.events:
			o.note(ev)
		case req := <-o.s.reconf:
			req.reply <- o.reconfigure(ctx, req.cfg)
		case reply := <-o.s.statusReq:
			st := o.status(ctx)
			o.s.last.Store(&st)
			reply <- st.clone()
		}
	}
}

func (o *owner) setWanted(rs []Route) {
	w := make(map[netip.Prefix]Route, len(rs))
	for _, r := range rs {
		if !r.Prefix.IsValid() {
			o.log.Warn("bgp route ignored: invalid prefix", "vip", r.Prefix)
			continue
		}
		if r.NextHop.IsValid() && r.NextHop.Is4() != r.Prefix.Addr().Is4() {
			o.log.Warn("bgp route ignored: next hop of another family", "vip", r.Prefix, "next_hop", r.NextHop)
			continue
		}
		r.Prefix = r.Prefix.Masked()
		w[r.Prefix] = r
	}
	o.wanted = w
}

// reconfigure applies a new configuration by difference.
func (o *owner) reconfigure(ctx context.Context, cfg Config) error {
	old := o.cfg
	if globalChanged(old, cfg) {
		// GoBGP fixes these at start: restart it. The neighbours see
		// the sessions close and come back with the new settings.
		o.log.Info("bgp global settings changed, restarting the speaker",
			"asn", cfg.ASN, "router_id", cfg.RouterID, "listen_port", cfg.ListenPort)
		o.stop()
		if err := o.restart(ctx, cfg); err != nil {
			if rerr := o.restart(ctx, old); rerr != nil {
				o.log.Error("bgp speaker not restarted with its previous settings either", "err", rerr)
			}
			return err
		}
		return nil
	}
	if o.srv == nil { // a restart failed: try again with this configuration
		return o.restart(ctx, cfg)
	}
	oldN, newN := neighborsByAddr(old.Neighbors), neighborsByAddr(cfg.Neighbors)
	for _, n := range old.Neighbors {
		if _, ok := newN[n.Address]; !ok {
			o.deletePeer(ctx, n.Address, "removed from the configuration")
		}
	}
	for _, n := range cfg.Neighbors {
		prev, ok := oldN[n.Address]
		switch {
		case !ok:
			o.addPeer(ctx, n)
		case prev != n:
			o.deletePeer(ctx, n.Address, "settings changed")
			o.addPeer(ctx, n)
		}
	}
	o.setConfig(cfg)
	o.reconcile(ctx) // communities may have changed
	return nil
}

// restart starts GoBGP with cfg after a stop; on failure the speaker stays
// stopped (Status says why) until a later Reconfigure.
func (o *owner) restart(ctx context.Context, cfg Config) error {
	o.setConfig(cfg)
	if err := o.start(ctx); err != nil {
		o.stop()
		o.startErr = err.Error()
		return err
	}
	o.startErr = ""
	o.reconcile(ctx)
	return nil
}

func (o *owner) addPeer(ctx context.Context, n Neighbor) {
	note := &peerNote{state: "idle"}
	o.peers[n.Address] = note
	if err := o.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: peerConfig(n)}); err != nil {
		note.lastErr = err.Error()
		o.log.Error("bgp neighbour not added", "neighbor", n.Address, "peer_asn", n.ASN, "err", err)
		return
	}
	o.log.Info("bgp neighbour added", "neighbor", n.Address, "peer_asn", n.ASN,
		"hold_time", n.HoldTime, "md5", n.Password != "", "source", n.Source, "multihop", n.Multihop, "port", n.Port)
}

func (o *owner) deletePeer(ctx context.Context, addr netip.Addr, why string) {
	delete(o.peers, addr)
	if err := o.srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: addr.String()}); err != nil {
		o.log.Error("bgp neighbour not removed", "neighbor", addr, "err", err)
		return
	}
	o.log.Info("bgp neighbour removed", "neighbor", addr, "reason", why)
}

// note records a neighbour event and logs a state change once.
func (o *owner) note(ev event) {
	p, ok := o.peers[ev.addr]
	if !ok {
		return // a neighbour since removed
	}
	if ev.connErr != "" {
		if n, ok := neighborsByAddr(o.cfg.Neighbors)[ev.addr]; ok && n.Password != "" && strings.Contains(ev.connErr, "timeout") {
			// RFC 2385: a segment with a wrong signature is dropped
			// silently, so a password mismatch is only a silence.
			ev.connErr += " (no answer; with a TCP MD5 password set, a password mismatch looks like this)"
		}
		if p.lastErr != ev.connErr {
			o.log.Warn("bgp neighbour error", "neighbor", ev.addr, "state", p.state, "err", ev.connErr)
		}
		p.lastErr = ev.connErr
		return
	}
	if ev.state == p.state {
		return
	}
	lvl := slog.LevelInfo
	if p.state == "established" {
		lvl = slog.LevelWarn
	}
	o.log.Log(context.Background(), lvl, "bgp neighbour state changed", "neighbor", ev.addr,
		"old", p.state, "new", ev.state, "reason", ev.reason)
	if p.state == "established" || (ev.state == "idle" && ev.reason != "") {
		if ev.reason != "" {
			p.lastErr = ev.reason
		}
	}
	p.state = ev.state
}

// seconds converts a duration to GoBGP's whole seconds.
func seconds(d time.Duration) uint64 { return uint64(d / time.Second) }

// sortRoutes orders route statuses by prefix.
func sortRoutes(rs []RouteStatus) {
	slices.SortFunc(rs, func(a, b RouteStatus) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		return a.Prefix.Bits() - b.Prefix.Bits()
	})
}
