package conf

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/havsd/havsd/bgp/community"
)

// The bgp block: an embedded BGP speaker that announces the services with
// announce = "bgp" to routers (active/active directors behind ECMP).
//
//	bgp {
//	  asn       = 65001
//	  router_id = "10.0.0.11"
//	  neighbor "10.0.0.1" {
//	    asn       = 65000
//	    hold_time = "9s"       # keepalive a third of it
//	    # password = "...", source = "10.0.0.11", multihop = 2, port = 179
//	  }
//	  communities = ["65000:100"]
//	  # listen_port = 179      # default: connect only
//	}

// BGP is the compiled bgp block; Config.BGP is nil without one.
type BGP struct {
	ASN         uint32
	RouterID    netip.Addr // IPv4
	ListenPort  int        // 0: do not listen
	Communities []string   // "ASN:VALUE", on every announced route
	Neighbors   []BGPNeighbor
	// DrainFor bounds how long havsd drain and a stop wait, once the
	// routes are withdrawn, for the active connections to end; 0 is the
	// director's default.
	DrainFor time.Duration
	// GracefulShutdown makes a stop re-announce the routes with RFC 8326's
	// GRACEFUL_SHUTDOWN community, instead of withdrawing them, while it
	// waits.
	GracefulShutdown bool
}

// BGPNeighbor is one neighbor block.
type BGPNeighbor struct {
	Address  netip.Addr
	ASN      uint32
	HoldTime time.Duration // 0: the speaker's default (90 s); keepalive a third
	Password string        // TCP MD5
	Source   netip.Addr    // zero: the kernel chooses
	Multihop uint8         // 0: directly connected
	Port     int           // 0: 179
}

// Announce values of a virtual_service.
const (
	AnnounceVRRP = "vrrp" // the VIP moves between directors with a VRRP instance (default)
	AnnounceBGP  = "bgp"  // the VIP is announced over BGP while this director can serve it
)

var announces = []string{AnnounceVRRP, AnnounceBGP}

// minHoldTime is the smallest non-zero BGP hold time (RFC 4271 4.2).
const minHoldTime = 3 * time.Second

// DefaultBGPScheduler is the scheduler of a service announced by BGP: with
// the same real servers in the same order, every director maps a flow to
// the same real server (Maglev hashing).
const DefaultBGPScheduler = "mh"

var bgpSchema = &hcl.BodySchema{
	Attributes: append(attrs("communities", "listen_port", "drain_for", "graceful_shutdown"),
		hcl.AttributeSchema{Name: "asn", Required: true}, hcl.AttributeSchema{Name: "router_id", Required: true}),
	Blocks: []hcl.BlockHeaderSchema{{Type: "neighbor", LabelNames: []string{"address"}}},
}

var neighborSchema = &hcl.BodySchema{Attributes: attrs("asn", "hold_time", "password", "source", "multihop", "port")}

type rawBGP struct {
	b           *block
	asn, listen int64
	routerID    string
	communities []string
	neighbors   []*rawNeighbor
	drainFor    time.Duration
	gshut       bool
}

type rawNeighbor struct {
	b                   *block
	label               string
	addr                netip.Addr
	addrOK              bool
	asn, multihop, port int64
	hold                time.Duration
	password            string
	source              netip.Addr
}

func (d *decoder) bgp(hb *hcl.Block) *rawBGP {
	b := d.open(hb, hb.Body, bgpSchema)
	g := &rawBGP{b: b}
	d.integer(b, "asn", &g.asn)
	d.str(b, "router_id", &g.routerID)
	d.integer(b, "listen_port", &g.listen)
	d.strs(b, "communities", &g.communities)
	d.dur(b, "drain_for", &g.drainFor)
	d.boolean(b, "graceful_shutdown", &g.gshut)
	for _, nb := range b.blocks {
		n := &rawNeighbor{b: d.open(nb, nb.Body, neighborSchema), label: nb.Labels[0]}
		a, err := parseAddr(n.label)
		if err == nil {
			n.addr, n.addrOK = a, true
		} else {
			d.errorf(n.b.labelAt(), "Invalid neighbor address", "%q is not an IP address.", n.label)
		}
		d.integer(n.b, "asn", &n.asn)
		d.dur(n.b, "hold_time", &n.hold)
		d.str(n.b, "password", &n.password)
		d.addr(n.b, "source", &n.source)
		d.integer(n.b, "multihop", &n.multihop)
		d.integer(n.b, "port", &n.port)
		g.neighbors = append(g.neighbors, n)
	}
	return g
}

// announce reads a service's announce attribute; a service announced by
// BGP defaults to the mh scheduler.
func (d *decoder) announce(b *block, s *rawService) {
	s.announce = AnnounceVRRP
	d.enum(b, "announce", &s.announce, announces)
	if s.announce == AnnounceBGP && !b.has("scheduler") {
		s.scheduler = DefaultBGPScheduler
	}
}

// bgp checks the bgp blocks and the services' announce settings against
// them and the VRRP instances.
func (v *validator) bgp(f *rawFile) {
	for i, g := range f.bgp {
		if i > 0 {
			v.errorf(g.b.defAt(), "Duplicate bgp block", "Only one bgp block is allowed; the first is at %s.", pos(f.bgp[0].b.defAt()))
			continue
		}
		v.bgpBlock(g)
	}
	vrrpVIPs := map[netip.Addr]*rawInstance{}
	for _, in := range f.instances {
		for _, vip := range in.vips {
			if vip.ok {
				vrrpVIPs[vip.prefix.Addr()] = in
			}
		}
	}
	for _, s := range f.services {
		b := s.b
		if !v.oneOf(b, "announce", s.announce, announces) || s.announce != AnnounceBGP {
			continue
		}
		switch {
		case len(f.bgp) == 0:
			v.errorf(b.at("announce"), "No bgp block", `Service %q is announced by BGP, but this configuration has no bgp block: add one with the local asn, router_id and the neighbours to announce to.`, s.name)
		case s.fwmark != 0:
			v.errorf(b.at("announce"), "Nothing to announce", `A fwmark service has no address of its own to announce: announce = "bgp" needs address = "VIP:PORT".`)
		}
		if in := vrrpVIPs[s.addr]; in != nil && b.has("address") {
			v.errorf(b.at("announce"), "VIP announced twice", `%s is a virtual address of vrrp_instance %q (%s): a VIP is either moved by VRRP or announced by BGP, not both. `+
				`Remove it from the instance, or drop announce = "bgp".`, s.addr, in.name, pos(in.b.defAt()))
		}
		if b.has("instance") {
			v.errorf(b.at("instance"), "Instance on a BGP service", `A service announced by BGP is not tied to a VRRP instance: remove instance here, or remove announce = "bgp" to have the instance move the VIP.`)
		}
		if len(f.bgp) > 0 && len(f.bgp[0].neighbors) > 0 && b.has("address") && !hasNeighborFamily(f.bgp[0], s.addr.Is4()) {
			v.warnf(b.at("address"), "No neighbour of this family", "%s is announced only to neighbours of its own address family, and the bgp block has none: nobody will learn it.", s.addr)
		}
		if b.has("scheduler") && s.scheduler != DefaultBGPScheduler {
			v.warnf(b.at("scheduler"), "Scheduler is not mh", `With announce = "bgp" the router spreads flows over the directors and moves some when one comes or goes; `+
				`with scheduler %q a moved flow may reach another real server and break. "mh" (the default here) sends it to the same one on every director.`, s.scheduler)
		}
	}
}

func (v *validator) bgpBlock(g *rawBGP) {
	b := g.b
	if b.has("asn") && (g.asn < 1 || g.asn > 1<<32-1) {
		v.errorf(b.at("asn"), "Invalid asn", "The AS number must be 1 to 4294967295, not %d.", g.asn)
	}
	if b.has("router_id") {
		if a, err := netip.ParseAddr(g.routerID); err != nil || !a.Is4() {
			v.errorf(b.at("router_id"), "Invalid router_id", "The BGP router id is an IPv4 address (often the director's own), not %q.", g.routerID)
		}
	}
	if b.has("listen_port") && (g.listen < 0 || g.listen > 65535) {
		v.errorf(b.at("listen_port"), "Invalid listen_port", "listen_port must be 1 to 65535, or 0 not to listen, not %d.", g.listen)
	}
	for i, c := range g.communities {
		if _, err := community.Parse(c); err != nil {
			v.errorf(elemAt(b, "communities", i), "Invalid community", "%q is not a community: write \"ASN:VALUE\", two numbers 0 to 65535, e.g. \"65000:100\".", c)
		}
	}
	if len(g.neighbors) == 0 {
		v.warnf(b.defAt(), "No neighbours", "This bgp block has no neighbor block: its services are announced to nobody.")
	}
	seen := map[netip.Addr]*rawNeighbor{}
	for _, n := range g.neighbors {
		if !n.addrOK {
			continue
		}
		if first := seen[n.addr]; first != nil {
			v.errorf(n.b.labelAt(), "Duplicate neighbor", "Neighbour %s is already configured at %s.", n.addr, pos(first.b.defAt()))
			continue
		}
		seen[n.addr] = n
		v.neighbor(n)
	}
}

func (v *validator) neighbor(n *rawNeighbor) {
	b := n.b
	switch {
	case !b.has("asn") && !b.misspelt("asn"):
		v.errorf(n.b.labelAt(), "Neighbour without asn", "Neighbour %s needs asn = N, the AS number it speaks for.", n.label)
	case b.has("asn") && (n.asn < 1 || n.asn > 1<<32-1):
		v.errorf(b.at("asn"), "Invalid asn", "The AS number must be 1 to 4294967295, not %d.", n.asn)
	}
	if n.addr.IsUnspecified() || n.addr.IsMulticast() {
		v.errorf(n.b.labelAt(), "Invalid neighbor address", "%s is not a unicast address.", n.addr)
	}
	if b.has("hold_time") && n.hold != 0 && (n.hold < minHoldTime || n.hold > 65535*time.Second || n.hold%time.Second != 0) {
		v.errorf(b.at("hold_time"), "Invalid hold_time", "The hold time is 0 (the default, 90s) or whole seconds from 3s to 65535s (RFC 4271), not %s.", n.hold)
	}
	if b.has("source") && n.source.Is4() != n.addr.Is4() {
		v.errorf(b.at("source"), "Source of another family", "Source %s and neighbour %s are not of the same address family.", n.source, n.addr)
	}
	if b.has("multihop") && (n.multihop < 1 || n.multihop > 255) {
		v.errorf(b.at("multihop"), "Invalid multihop", "multihop is the TTL of the session's packets, 1 to 255, not %d.", n.multihop)
	}
	if b.has("port") && (n.port < 1 || n.port > 65535) {
		v.errorf(b.at("port"), "Invalid port", "port must be 1 to 65535, not %d.", n.port)
	}
	if b.has("password") && n.password == "" {
		v.errorf(b.at("password"), "Empty password", "An empty password means none: leave the attribute out.")
	}
}

// compileBGP turns the bgp block into its compiled form (nil without one).
func compileBGP(gs []*rawBGP) *BGP {
	if len(gs) == 0 {
		return nil
	}
	g := gs[0]
	out := &BGP{ASN: uint32(g.asn), RouterID: netip.MustParseAddr(g.routerID), ListenPort: int(g.listen),
		Communities: slices.Clone(g.communities), DrainFor: g.drainFor, GracefulShutdown: g.gshut}
	for _, n := range g.neighbors {
		out.Neighbors = append(out.Neighbors, BGPNeighbor{Address: n.addr, ASN: uint32(n.asn), HoldTime: n.hold,
			Password: n.password, Source: n.source, Multihop: uint8(n.multihop), Port: int(n.port)})
	}
	return out
}

// diffBGP names what changed in the bgp block: "bgp" when it was added or
// removed, else the changed settings and "neighbor ADDR" for each
// neighbour added, removed or changed.
func diffBGP(a, b *BGP) []string {
	switch {
	case a == nil && b == nil:
		return nil
	case a == nil || b == nil:
		return []string{"bgp"}
	}
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("asn", a.ASN != b.ASN)
	add("router_id", a.RouterID != b.RouterID)
	add("listen_port", a.ListenPort != b.ListenPort)
	add("communities", !slices.Equal(a.Communities, b.Communities))
	add("drain_for", a.DrainFor != b.DrainFor)
	add("graceful_shutdown", a.GracefulShutdown != b.GracefulShutdown)
	key := func(n BGPNeighbor) netip.Addr { return n.Address }
	added, removed, changed := diffKeyed(a.Neighbors, b.Neighbors, key, func(x, y BGPNeighbor) bool { return x == y }, netip.Addr.Compare)
	for _, as := range [][]netip.Addr{added, removed, changed} {
		for _, addr := range as {
			out = append(out, fmt.Sprintf("neighbor %s", addr))
		}
	}
	return out
}

// formatBGP writes the bgp block of g (nil: nothing).
func formatBGP(body *hclwrite.Body, g *BGP) {
	if g == nil {
		return
	}
	body.AppendNewline()
	b := body.AppendNewBlock("bgp", nil).Body()
	b.SetAttributeValue("asn", num(int64(g.ASN)))
	b.SetAttributeValue("router_id", str(g.RouterID.String()))
	setInt(b, "listen_port", int64(g.ListenPort), 0)
	if len(g.Communities) > 0 {
		b.SetAttributeValue("communities", strList(g.Communities))
	}
	setDur(b, "drain_for", g.DrainFor, 0)
	setBool(b, "graceful_shutdown", g.GracefulShutdown, false)
	for _, n := range g.Neighbors {
		nb := b.AppendNewBlock("neighbor", []string{n.Address.String()}).Body()
		nb.SetAttributeValue("asn", num(int64(n.ASN)))
		setDur(nb, "hold_time", n.HoldTime, 0)
		setStr(nb, "password", n.Password, "")
		setAddr(nb, "source", n.Source)
		setInt(nb, "multihop", int64(n.Multihop), 0)
		setInt(nb, "port", int64(n.Port), 0)
	}
}

// schedulerDefault is the scheduler a service gets when it names none.
func schedulerDefault(announce string) string {
	if announce == AnnounceBGP {
		return DefaultBGPScheduler
	}
	return DefaultScheduler
}

// vrrpServices are the services whose VIPs VRRP moves (not announced by
// BGP).
func vrrpServices(ss []*rawService) []*rawService {
	var out []*rawService
	for _, s := range ss {
		if s.announce != AnnounceBGP {
			out = append(out, s)
		}
	}
	return out
}

// hasNeighborFamily says whether g has a neighbour of the family (IPv4 or
// IPv6): each session carries the VIPs of its own family.
func hasNeighborFamily(g *rawBGP, ipv4 bool) bool {
	return slices.ContainsFunc(g.neighbors, func(n *rawNeighbor) bool { return n.addrOK && n.addr.Is4() == ipv4 })
}
