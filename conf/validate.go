package conf

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/havsd/havsd/vrrp"
)

// validator is the semantic pass: it checks a decoded rawFile and
// accumulates every problem with the most precise source range it has.
type validator struct {
	diags hcl.Diagnostics
}

func validate(f *rawFile) hcl.Diagnostics {
	v := &validator{}
	v.global(f.global)
	v.ipvsSync(f.global.syncs, f.instances)
	v.instances(f.instances)
	v.groups(f.groups, f.instances)
	v.services(f.services, f.instances)
	if vs := vrrpServices(f.services); len(f.instances) == 0 && len(vs) > 0 {
		v.warnf(vs[0].b.labelAt(), "No VRRP instance", "This configuration has %d virtual service(s) but no vrrp_instance: nothing moves their addresses "+
			"between directors (no failover), and nothing puts them on this one. Add a vrrp_instance holding the service addresses, "+
			"unless this is a single director whose addresses are configured by other means.", len(vs))
	}
	v.trackServices(f.instances, f.services)
	v.trackers(f)
	v.serviceInstances(f)
	v.notifyFIFO(f.global)
	v.notifyHooks(f)
	v.bgp(f)
	return v.diags
}

func (v *validator) errorf(subject *hcl.Range, summary, format string, args ...any) {
	v.diags = append(v.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: subject})
}

func (v *validator) warnf(subject *hcl.Range, summary, format string, args ...any) {
	v.diags = append(v.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: subject})
}

// The values of havsd's enumerated attributes (besides Schedulers, forwards,
// checkKinds and queryTypes). decoder.enum accepts them in any case.
var (
	logFormats = []string{"text", "json"}
	logLevels  = []string{"debug", "info", "warn", "error"}
	ipvsModes  = []string{"always", "master"}
	families   = []string{"ipv4", "ipv6"}
	protocols  = []string{"tcp", "udp", "sctp"}
	engines    = []string{"sip"}
)

// aliases are the names ipvsadm and keepalived use for havsd's values.
var aliases = map[string]string{
	"masq": "nat", "masquerading": "nat", "route": "dr", "gatewaying": "dr", "direct": "dr",
	"tunnel": "tun", "ipip": "tun", "full-nat": "fullnat", "full_nat": "fullnat",
	"inet": "ipv4", "inet6": "ipv6", "v4": "ipv4", "v6": "ipv6",
}

// oneOf reports an attribute whose value is not among choices, suggesting
// the closest.
func (v *validator) oneOf(b *block, name, val string, choices []string) bool {
	if !b.has(name) || slices.Contains(choices, val) {
		return true
	}
	hint := didYouMean(val, choices)
	if alias, ok := aliases[strings.ToLower(val)]; ok && slices.Contains(choices, alias) {
		hint = fmt.Sprintf(" Did you mean %q?", alias)
	}
	v.errorf(b.at(name), "Invalid value for "+name, "%q is not one of %s.%s", val, strings.Join(choices, ", "), hint)
	return false
}

// elemAt returns the range of element i of a list attribute, or the whole
// value's range when the list is not written literally.
func elemAt(b *block, name string, i int) *hcl.Range {
	a := b.attr(name)
	if a == nil || a.expr == nil {
		return b.at(name)
	}
	exprs, diags := hcl.ExprList(a.expr)
	if diags.HasErrors() || i >= len(exprs) {
		return b.at(name)
	}
	r := exprs[i].Range()
	return &r
}

func (v *validator) global(g *rawGlobal) {
	b := g.b
	v.oneOf(b, "log_format", g.logFormat, logFormats)
	v.oneOf(b, "log_level", g.logLevel, logLevels)
	v.oneOf(b, "ipvs_mode", g.ipvsMode, ipvsModes)
	if b.has("reconcile_interval") && g.reconcile < 100*time.Millisecond {
		v.errorf(b.at("reconcile_interval"), "Invalid reconcile_interval", "The reconcile interval must be at least 100ms.")
	}
	if b.has("metrics_listen") && g.metricsListen != "" {
		if _, _, err := net.SplitHostPort(g.metricsListen); err != nil {
			v.errorf(b.at("metrics_listen"), "Invalid metrics_listen", `%q is not host:port: write e.g. "127.0.0.1:9473".`, g.metricsListen)
		}
	}
	if b.has("control_socket") && g.controlSocket == "" {
		v.errorf(b.at("control_socket"), "Invalid control_socket", "The control socket path must not be empty.")
	}
	if t := g.timeouts; t != nil {
		for _, n := range []string{"tcp", "tcp_fin", "udp"} {
			val := map[string]time.Duration{"tcp": g.tcp, "tcp_fin": g.tcpFin, "udp": g.udp}[n]
			if t.has(n) && val%time.Second != 0 {
				v.errorf(t.at(n), "Invalid IPVS timeout", "IPVS timeouts are whole seconds; %s is not.", val)
			}
		}
	}
}

func (v *validator) instances(ins []*rawInstance) {
	names := map[string]*rawInstance{}
	type vridKey struct {
		iface  string
		vrid   int64
		family string
	}
	vrids := map[vridKey]*rawInstance{}
	vips := map[netip.Addr]*hcl.Range{}
	for _, in := range ins {
		if first, dup := names[in.name]; dup {
			v.errorf(in.b.labelAt(), "Duplicate VRRP instance", "An instance named %q is already defined at %s.", in.name, pos(first.b.labelAt()))
		} else {
			names[in.name] = in
		}
		v.instance(in)
		k := vridKey{in.iface, in.vrid, in.family}
		if first, dup := vrids[k]; dup && in.b.has("virtual_router_id") && in.b.has("interface") {
			v.errorf(in.b.at("virtual_router_id"), "Duplicate VRID", "Instance %q already uses VRID %d on %s (%s) at %s.", first.name, in.vrid, in.iface, in.family, pos(first.b.at("virtual_router_id")))
		} else if !dup {
			vrids[k] = in
		}
		for _, vip := range in.vips {
			if !vip.ok {
				continue
			}
			if first, dup := vips[vip.prefix.Addr()]; dup {
				v.errorf(vip.rng, "Duplicate virtual address", "%s is already a virtual address at %s.", vip.prefix.Addr(), pos(first))
			} else {
				vips[vip.prefix.Addr()] = vip.rng
			}
		}
	}
}

func (v *validator) instance(in *rawInstance) {
	b := in.b
	if b.has("interface") && in.iface == "" {
		v.errorf(b.at("interface"), "Invalid interface", "The interface name must not be empty.")
	}
	if b.has("virtual_router_id") && (in.vrid < 1 || in.vrid > 255) {
		v.errorf(b.at("virtual_router_id"), "Invalid VRID", "virtual_router_id must be 1-255, not %d.", in.vrid)
	}
	switch {
	case in.priority < 1 || in.priority > 255:
		v.errorf(b.at("priority"), "Invalid priority", "priority must be 1-254 (255 only for the address owner), not %d.", in.priority)
	case in.priority == 255:
		v.warnf(b.at("priority"), "Priority 255", "Priority 255 is for the router that owns the virtual addresses; havsd cannot check that at load time. A backup with 255 would preempt every master.")
	}
	versionOK := in.version == 2 || in.version == 3
	if !versionOK {
		v.errorf(b.at("version"), "Invalid VRRP version", "version must be 2 or 3, not %d.", in.version)
	}
	familyOK := v.oneOf(b, "family", in.family, families)
	if familyOK && versionOK && in.family == "ipv6" && in.version == 2 {
		v.errorf(b.at("family"), "IPv6 needs VRRPv3", "VRRP version 2 is IPv4 only (RFC 3768); set version = 3 for IPv6.")
	}
	if versionOK {
		v.advert(in)
	}
	if b.has("auth_pass") {
		switch {
		case in.version == 3:
			v.errorf(b.at("auth_pass"), "Authentication needs VRRPv2", "VRRPv3 (RFC 5798) has no authentication; auth_pass is for version 2 only.")
		case len(in.authPass) > 8:
			v.errorf(b.at("auth_pass"), "auth_pass too long", "auth_pass is at most 8 bytes; this one has %d.", len(in.authPass))
		case in.authPass == "":
			v.errorf(b.at("auth_pass"), "Empty auth_pass", "Remove auth_pass for no authentication.")
		}
	}
	if in.preemptDelay > 1000*time.Second {
		v.errorf(b.at("preempt_delay"), "Invalid preempt_delay", "preempt_delay is at most 1000s, as in keepalived.")
	}
	v.instanceAddrs(in, familyOK)
	tracks := map[string]bool{}
	for _, t := range in.track {
		if tracks[t.name] {
			v.errorf(t.b.labelAt(), "Duplicate track_interface", "Interface %q is already tracked.", t.name)
		}
		tracks[t.name] = true
		if t.weight < -254 || t.weight > 254 {
			v.errorf(t.b.at("weight"), "Invalid track weight", "weight must be -254 to 254 (> 0: added while the interface is up, < 0: added while it is down, 0: FAULT while down), not %d.", t.weight)
		}
		if t.reverse && t.weight == 0 {
			v.errorf(t.b.at("reverse"), "reverse with weight 0", "havsd does not put an instance in FAULT while a link is up (keepalived's \"weight 0 reverse\"); give a weight, or drop reverse.")
		}
	}
	v.notify(in.notifyBlock, &in.notify)
	if g := in.garpBlock; g != nil {
		for _, n := range []string{"count", "repeat_count"} {
			val := map[string]int{"count": in.garp.Count, "repeat_count": in.garp.RepeatCount}[n]
			if g.has(n) && (val < 0 || val > 100) {
				v.errorf(g.at(n), "Invalid "+n, "%s must be 0-100, not %d.", n, val)
			}
		}
	}
}

// trackServices checks each track_service names a service once, with a
// weight that can lower a priority.
func (v *validator) trackServices(ins []*rawInstance, svcs []*rawService) {
	names := map[string]bool{}
	for _, s := range svcs {
		names[s.name] = true
	}
	for _, in := range ins {
		seen := map[string]bool{}
		for _, t := range in.trackSvc {
			switch {
			case seen[t.name]:
				v.errorf(t.b.labelAt(), "Duplicate track_service", "Service %q is already tracked by this instance.", t.name)
			case !names[t.name]:
				v.errorf(t.b.labelAt(), "Unknown service", "No virtual_service is labelled %q.", t.name)
			}
			seen[t.name] = true
			switch {
			case !t.b.has("weight"):
				v.errorf(t.b.labelAt(), "Missing track weight", "track_service needs weight = 1-254: how much to lower the priority while the service has lost quorum.")
			case t.weight < 1 || t.weight > 254:
				v.errorf(t.b.at("weight"), "Invalid track weight", "weight must be 1-254 (lower the priority by that much while the service has lost quorum), not %d.", t.weight)
			}
		}
	}
}

func (v *validator) advert(in *rawInstance) {
	b, a := in.b, in.advert
	if in.version == 2 {
		if a%time.Second != 0 || a < time.Second || a > 255*time.Second {
			v.errorf(b.at("advert_interval"), "Invalid advert_interval", "VRRPv2 advertises in whole seconds, 1s-255s; %s is not. Use version = 3 for sub-second intervals.", a)
		}
		return
	}
	if a%(10*time.Millisecond) != 0 || a < 10*time.Millisecond || a > 40950*time.Millisecond {
		v.errorf(b.at("advert_interval"), "Invalid advert_interval", "VRRPv3 advertises in centiseconds, 10ms-40.95s; %s is not a multiple of 10ms in that range.", a)
	}
}

func (v *validator) instanceAddrs(in *rawInstance, familyOK bool) {
	b := in.b
	want := "ipv4"
	if familyOK {
		want = in.family
	}
	fam := func(a netip.Addr) string {
		if a.Is4() {
			return "ipv4"
		}
		return "ipv6"
	}
	if len(in.vips) == 0 && !b.bad["virtual_ipaddress"] && !b.misspelt("virtual_ipaddress", "vip") {
		v.errorf(b.defAt(), "No virtual address", "Instance %q needs at least one address in virtual_ipaddress or a vip block.", in.name)
	}
	seen := map[netip.Addr]bool{}
	for _, vip := range in.vips {
		if !vip.ok {
			continue
		}
		if familyOK && fam(vip.prefix.Addr()) != want {
			v.errorf(vip.rng, "Address family mismatch", "%s is not an %s address, the instance's family.", vip.prefix, want)
		}
		seen[vip.prefix.Addr()] = true
	}
	if b.has("unicast_source") && familyOK && fam(in.source) != want {
		v.errorf(b.at("unicast_source"), "Address family mismatch", "unicast_source %s is not an %s address.", in.source, want)
	}
	if b.has("unicast_source") && len(in.peers) == 0 {
		v.errorf(b.at("unicast_source"), "unicast_source without peers", "unicast_source only makes sense with unicast_peers.")
	}
	peers := map[netip.Addr]bool{}
	for i, p := range in.peers {
		switch {
		case familyOK && fam(p) != want:
			v.errorf(elemAt(b, "unicast_peers", i), "Address family mismatch", "Peer %s is not an %s address.", p, want)
		case peers[p]:
			v.errorf(elemAt(b, "unicast_peers", i), "Duplicate peer", "Peer %s is listed twice.", p)
		case p == in.source:
			v.errorf(elemAt(b, "unicast_peers", i), "Peer is the source", "Peer %s is this router's own unicast_source.", p)
		}
		peers[p] = true
	}
}

func (v *validator) notify(b *block, cmds *vrrp.Notify) {
	if b == nil {
		return
	}
	for _, n := range []string{"master", "backup", "fault", "stop", "generic"} {
		if a := b.attr(n); a != nil && b.has(n) {
			val, _ := eval(a)
			if val.LengthInt() == 0 || val.Index(ctyZero).AsString() == "" {
				v.errorf(b.at(n), "Empty notify command", "A notify command is an argv list starting with the program, e.g. [\"/usr/local/bin/notify\", %q].", n)
			}
		}
	}
	v.notifyCommands(b, cmds) // notifyhooks.go
}

func (v *validator) groups(gs []*rawGroup, ins []*rawInstance) {
	known := map[string]bool{}
	var names []string
	for _, in := range ins {
		known[in.name] = true
		names = append(names, in.name)
	}
	member := map[string]string{}
	seen := map[string]*rawGroup{}
	for _, g := range gs {
		if first, dup := seen[g.name]; dup {
			v.errorf(g.b.labelAt(), "Duplicate sync group", "A sync group named %q is already defined at %s.", g.name, pos(first.b.labelAt()))
		}
		seen[g.name] = g
		if g.b.has("instances") && len(g.instances) == 0 {
			v.errorf(g.b.at("instances"), "Empty sync group", "A sync group needs at least one instance.")
		}
		for i, name := range g.instances {
			at := elemAt(g.b, "instances", i)
			switch other, in := member[name]; {
			case !known[name]:
				v.errorf(at, "Unknown VRRP instance", "No vrrp_instance is named %q.%s", name, didYouMean(name, names))
			case in && other == g.name:
				v.errorf(at, "Duplicate group member", "Instance %q is listed twice in sync group %q.", name, g.name)
			case in:
				v.errorf(at, "Instance in two sync groups", "Instance %q is already in sync group %q.", name, other)
			default:
				member[name] = g.name
			}
		}
		v.notify(g.notifyBlock, &g.notify)
	}
}
