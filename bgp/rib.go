package bgp

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	gbgp "github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// ribRoute is a locally originated route as GoBGP's RIB holds it.
type ribRoute struct {
	path    *apiutil.Path
	nextHop netip.Addr // as stored: 0.0.0.0 or :: for next hop self
	comms   []uint32
}

// readLocal reads GoBGP's locally originated IPv4 and IPv6 unicast routes.
func (o *owner) readLocal() (map[netip.Prefix]ribRoute, error) {
	have, _, err := o.readRIB()
	return have, err
}

// readRIB reads GoBGP's IPv4 and IPv6 unicast RIB: the locally originated
// routes, and how many routes from each neighbour it holds (none, while
// the import policy rejects them).
func (o *owner) readRIB() (map[netip.Prefix]ribRoute, map[netip.Addr]int, error) {
	have := map[netip.Prefix]ribRoute{}
	received := map[netip.Addr]int{}
	for _, fam := range []gbgp.Family{gbgp.RF_IPv4_UC, gbgp.RF_IPv6_UC} {
		err := o.srv.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL, Family: fam},
			func(nlri gbgp.NLRI, paths []*apiutil.Path) {
				pfx, ok := nlriPrefix(nlri)
				if !ok {
					return
				}
				for _, p := range paths {
					switch {
					case p.Withdrawal:
					case p.PeerAddress.IsValid():
						received[p.PeerAddress]++
					default:
						have[pfx] = readPath(p)
					}
				}
			})
		if err != nil {
			return nil, nil, fmt.Errorf("reading bgp rib (%s): %w", fam, err)
		}
	}
	return have, received, nil
}

func nlriPrefix(n gbgp.NLRI) (netip.Prefix, bool) {
	if p, ok := n.(*gbgp.IPAddrPrefix); ok {
		return p.Prefix, true
	}
	return netip.Prefix{}, false
}

func readPath(p *apiutil.Path) ribRoute {
	r := ribRoute{path: p}
	for _, a := range p.Attrs {
		switch a := a.(type) {
		case *gbgp.PathAttributeNextHop:
			r.nextHop = a.Value
		case *gbgp.PathAttributeMpReachNLRI:
			r.nextHop = a.Nexthop
		case *gbgp.PathAttributeCommunities:
			r.comms = slices.Clone(a.Value)
		}
	}
	return r
}

// want is the next hop and communities a wanted route should carry.
func (o *owner) want(r Route) (netip.Addr, []uint32) {
	nh := r.NextHop
	if !nh.IsValid() {
		nh = netip.IPv4Unspecified()
		if r.Prefix.Addr().Is6() {
			nh = netip.IPv6Unspecified()
		}
	}
	comms := slices.Clone(o.comms)
	if r.GracefulShutdown {
		comms = append(comms, GracefulShutdownCommunity)
	}
	slices.Sort(comms)
	return nh, slices.Compact(comms)
}

// reconcile makes GoBGP's local RIB equal to the wanted routes, announcing
// and withdrawing only the difference.
func (o *owner) reconcile(ctx context.Context) {
	if o.srv == nil {
		return
	}
	have, err := o.readLocal()
	if err != nil {
		o.log.Error("bgp reconcile skipped", "err", err)
		return
	}
	for pfx, r := range o.wanted {
		nh, comms := o.want(r)
		h, ok := have[pfx]
		got := slices.Clone(h.comms)
		slices.Sort(got)
		if ok && h.nextHop == nh && slices.Equal(got, comms) {
			continue
		}
		why := r.Reason
		if why == "" {
			why = "wanted"
		}
		switch {
		case ok && h.nextHop != nh:
			why += "; next hop changed"
		case ok:
			why += "; communities changed"
		case o.announced(pfx):
			why += "; missing from the RIB, repaired"
		}
		if err := o.announce(pfx, nh, comms); err != nil {
			o.log.Error("bgp announce failed", "vip", pfx, "err", err)
			continue
		}
		o.log.Info("bgp announce", "vip", pfx, "next_hop", nhString(nh), "communities", commStrings(comms),
			"graceful_shutdown", r.GracefulShutdown, "reason", why)
	}
	for pfx, h := range have {
		if _, ok := o.wanted[pfx]; ok {
			continue
		}
		if err := o.srv.DeletePath(apiutil.DeletePathRequest{Paths: []*apiutil.Path{h.path}}); err != nil {
			o.log.Error("bgp withdraw failed", "vip", pfx, "err", err)
			continue
		}
		o.log.Info("bgp withdraw", "vip", pfx, "reason", "no longer wanted")
	}
	o.lastAnnounced = keys(o.wanted)
}

// announced says whether pfx was in the wanted set at the last reconcile
// (so its absence from the RIB now is a repair, not a new announce).
func (o *owner) announced(pfx netip.Prefix) bool {
	_, ok := o.lastAnnounced[pfx]
	return ok
}

func keys(m map[netip.Prefix]Route) map[netip.Prefix]struct{} {
	k := make(map[netip.Prefix]struct{}, len(m))
	for p := range m {
		k[p] = struct{}{}
	}
	return k
}

func (o *owner) announce(pfx netip.Prefix, nh netip.Addr, comms []uint32) error {
	nlri, err := gbgp.NewIPAddrPrefix(pfx)
	if err != nil {
		return err
	}
	fam := gbgp.RF_IPv4_UC
	attrs := []gbgp.PathAttributeInterface{gbgp.NewPathAttributeOrigin(gbgp.BGP_ORIGIN_ATTR_TYPE_IGP)}
	if pfx.Addr().Is4() {
		a, err := gbgp.NewPathAttributeNextHop(nh)
		if err != nil {
			return err
		}
		attrs = append(attrs, a)
	} else {
		fam = gbgp.RF_IPv6_UC
		a, err := gbgp.NewPathAttributeMpReachNLRI(fam, []gbgp.PathNLRI{{NLRI: nlri}}, nh)
		if err != nil {
			return err
		}
		attrs = append(attrs, a)
	}
	if len(comms) > 0 {
		attrs = append(attrs, gbgp.NewPathAttributeCommunities(comms))
	}
	_, err = o.srv.AddPath(apiutil.AddPathRequest{Paths: []*apiutil.Path{{
		Family: fam, Nlri: nlri, Attrs: attrs, Age: time.Now().Unix(),
	}}})
	return err
}

// status reads the neighbours and the local RIB from GoBGP.
func (o *owner) status(ctx context.Context) Status {
	if o.srv == nil {
		return configStatus(o.cfg, "bgp speaker not running: "+o.startErr)
	}
	st := Status{ASN: o.cfg.ASN, RouterID: o.cfg.RouterID}
	got := map[netip.Addr]*api.Peer{}
	err := o.srv.ListPeer(ctx, &api.ListPeerRequest{EnableAdvertised: true}, func(p *api.Peer) {
		if a, err := netip.ParseAddr(p.GetConf().GetNeighborAddress()); err == nil {
			got[a] = p
		}
	})
	for _, n := range o.cfg.Neighbors {
		ns := NeighborStatus{Address: n.Address, ASN: n.ASN, State: "idle"}
		if note := o.peers[n.Address]; note != nil {
			ns.LastError = note.lastErr
		}
		if err != nil {
			ns.LastError = fmt.Sprintf("reading bgp neighbours: %v", err)
		}
		if p := got[n.Address]; p != nil {
			fillNeighbor(&ns, p)
		}
		st.Neighbors = append(st.Neighbors, ns)
	}
	have, received, err := o.readRIB()
	if err != nil {
		o.log.Error("bgp status: routes not read", "err", err)
	}
	for i := range st.Neighbors {
		st.Neighbors[i].Accepted = received[st.Neighbors[i].Address]
	}
	for pfx, h := range have {
		rs := RouteStatus{Prefix: pfx, Communities: commStrings(h.comms)}
		if !h.nextHop.IsUnspecified() {
			rs.NextHop = h.nextHop
		}
		rs.GracefulShutdown = slices.Contains(h.comms, GracefulShutdownCommunity)
		st.Announced = append(st.Announced, rs)
	}
	sortRoutes(st.Announced)
	return st
}

func fillNeighbor(ns *NeighborStatus, p *api.Peer) {
	s := p.GetState()
	ns.State = apiStateName(s.GetSessionState())
	if ns.State == "established" {
		if up := p.GetTimers().GetState().GetUptime(); up != nil {
			ns.Uptime = time.Since(up.AsTime()).Truncate(time.Second)
		}
	}
	m := s.GetMessages()
	ns.MsgsSent, ns.MsgsReceived = m.GetSent().GetTotal(), m.GetReceived().GetTotal()
	ns.UpdatesSent, ns.UpdatesReceived = m.GetSent().GetUpdate(), m.GetReceived().GetUpdate()
	for _, af := range p.GetAfiSafis() {
		ns.Received += int(af.GetState().GetReceived())
		ns.Advertised += int(af.GetState().GetAdvertised())
	}
}

func nhString(a netip.Addr) string {
	if a.IsUnspecified() {
		return "self"
	}
	return a.String()
}

func commStrings(cs []uint32) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = FormatCommunity(c)
	}
	return out
}
