package conf

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/ipvsadm"
)

// Schedulers are the IPVS schedulers havsd accepts. twos needs Linux 6.2 or
// later; whether the running kernel has a scheduler is checked at start-up.
var Schedulers = []string{"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "lblc", "lblcr", "fo", "ovf", "mh", "twos"}

var forwards = []string{"nat", "dr", "tun", "fullnat"}

const maxPersistence = 31 * 24 * time.Hour // ipvsadm's limit

type markKey struct {
	addr  netip.Addr
	proto string
	port  int64
}

func (v *validator) services(ss []*rawService, ins []*rawInstance) {
	var instNames []string
	vipsOf := map[string]map[netip.Addr]bool{}
	for _, in := range ins {
		instNames = append(instNames, in.name)
		m := map[netip.Addr]bool{}
		for _, vip := range in.vips {
			m[vip.prefix.Addr()] = true
		}
		vipsOf[in.name] = m
	}
	names := map[string]*rawService{}
	keys := map[lvs.ServiceKey]*rawService{}
	marks := map[markKey]*hcl.Range{}
	for _, s := range ss {
		if first, dup := names[s.name]; dup {
			v.errorf(s.b.labelAt(), "Duplicate virtual service", "A virtual service named %q is already defined at %s.", s.name, pos(first.b.labelAt()))
		} else {
			names[s.name] = s
		}
		key, keyOK := v.serviceKey(s)
		if keyOK {
			if first, dup := keys[key]; dup {
				at := s.b.at("address")
				if key.FWMark != 0 {
					at = s.b.at("fwmark")
				}
				v.errorf(at, "Duplicate virtual service", "Service %s is already defined by virtual_service %q at %s.", key, first.name, pos(first.b.labelAt()))
			} else {
				keys[key] = s
			}
		}
		v.serviceAttrs(s, instNames, vipsOf)
		v.classify(s, marks)
		fam := serviceFamily(s)
		seen := map[lvs.DestKey]*rawReal{}
		for _, r := range s.reals {
			v.real(s, r, fam, false)
			if !r.addrOK {
				continue
			}
			dk := lvs.DestKey{Addr: r.addr, Port: uint16(realPort(s, r))}
			if first, dup := seen[dk]; dup {
				v.errorf(r.b.labelAt(), "Duplicate real server", "Real server %s is already defined at %s.", dk, pos(first.b.labelAt()))
			} else {
				seen[dk] = r
			}
		}
		if s.sorry != nil {
			v.real(s, s.sorry, fam, true)
		}
		for _, r := range s.sorryDup {
			v.errorf(r.b.defAt(), "Duplicate sorry_server", "A virtual service has at most one sorry_server; the first is at %s.", pos(s.sorry.b.labelAt()))
		}
		for _, c := range s.checks {
			v.check(c, s, nil)
		}
	}
	v.shadowed(keys, marks)
}

// shadowed warns about an address service whose traffic a classify rule
// marks: IPVS looks fwmark services up first, so it would get none.
func (v *validator) shadowed(keys map[lvs.ServiceKey]*rawService, marks map[markKey]*hcl.Range) {
	for _, s := range orderedServices(keys) {
		k := s.key
		if k.FWMark != 0 {
			continue
		}
		for _, port := range []int64{int64(k.Port), 0} {
			if at, ok := marks[markKey{k.Addr, k.Proto.String(), port}]; ok {
				v.warnf(s.svc.b.at("address"), "Service shadowed by a firewall mark", "The classify rule at %s marks %s, so the fwmark service gets this traffic and virtual_service %q gets none.", pos(at), k, s.svc.name)
				break
			}
		}
	}
}

type keyedService struct {
	key lvs.ServiceKey
	svc *rawService
}

// orderedServices lists services in key order, for stable diagnostics.
func orderedServices(keys map[lvs.ServiceKey]*rawService) []keyedService {
	out := make([]keyedService, 0, len(keys))
	for k, s := range keys {
		out = append(out, keyedService{k, s})
	}
	slices.SortFunc(out, func(a, b keyedService) int { return a.key.Compare(b.key) })
	return out
}

// serviceFamily is the service's family as written: from the address, or
// the family attribute of a fwmark service.
func serviceFamily(s *rawService) string {
	if s.b.has("address") && s.addr.Is6() {
		return "ipv6"
	}
	if s.b.has("address") {
		return "ipv4"
	}
	return s.family
}

// realPort is the port a real server gets: its own, else the service's.
func realPort(s *rawService, r *rawReal) int {
	if r.port >= 0 {
		return r.port
	}
	if s.port >= 0 && s.b.has("address") {
		return s.port
	}
	return 0
}

func (v *validator) serviceKey(s *rawService) (lvs.ServiceKey, bool) {
	b := s.b
	hasFW, hasAddr := b.written("fwmark"), b.written("address")
	switch {
	case hasFW && hasAddr:
		v.errorf(b.at("address"), "fwmark service with an address", "A firewall-mark service matches on the mark: remove address (and protocol), or remove fwmark.")
		return lvs.ServiceKey{}, false
	case hasFW:
		if b.written("protocol") {
			v.errorf(b.at("protocol"), "fwmark service with a protocol", "A firewall-mark service balances every protocol carrying the mark; set protocol in a classify block instead.")
		}
		if !b.has("fwmark") {
			return lvs.ServiceKey{}, false
		}
		if s.fwmark < 1 || s.fwmark > 1<<32-1 {
			v.errorf(b.at("fwmark"), "Invalid fwmark", "fwmark must be 1-4294967295, not %d.", s.fwmark)
			return lvs.ServiceKey{}, false
		}
		if !v.oneOf(b, "family", s.family, families) {
			return lvs.ServiceKey{}, false
		}
		fam := lvs.IPv4
		if s.family == "ipv6" {
			fam = lvs.IPv6
		}
		return lvs.ServiceKey{Family: fam, Proto: lvs.ProtoNone, FWMark: uint32(s.fwmark)}, true
	case hasAddr:
		if b.written("family") {
			v.errorf(b.at("family"), "family with an address", "family is only for fwmark services; an address service takes the address's family.")
		}
		protoOK := v.oneOf(b, "protocol", s.protocol, protocols)
		if !b.has("address") {
			return lvs.ServiceKey{}, false
		}
		if s.port < 0 {
			v.errorf(b.at("address"), "Service without a port", `Write the port: "%s". Port 0 (every port) needs persistence.`, netip.AddrPortFrom(s.addr, 80))
			return lvs.ServiceKey{}, false
		}
		if !protoOK {
			return lvs.ServiceKey{}, false
		}
		if s.port == 0 && s.persistence == 0 {
			v.errorf(b.at("address"), "Port 0 without persistence", "A service on port 0 (every port) must be persistent, as ipvsadm requires: set persistence.")
		}
		return lvs.ServiceKey{Family: lvs.FamilyOf(s.addr), Proto: protocolOf(s.protocol), Addr: s.addr, Port: uint16(s.port)}, true
	default:
		v.errorf(b.defAt(), "Virtual service without a key", "Set address (with protocol) or fwmark.")
		return lvs.ServiceKey{}, false
	}
}

func protocolOf(p string) lvs.Protocol {
	switch p {
	case "tcp":
		return lvs.TCP
	case "udp":
		return lvs.UDP
	case "sctp":
		return lvs.SCTP
	}
	return lvs.ProtoInvalid
}

func (v *validator) serviceAttrs(s *rawService, instances []string, vipsOf map[string]map[netip.Addr]bool) {
	b := s.b
	schedOK := v.oneOf(b, "scheduler", s.scheduler, Schedulers)
	seen := map[string]bool{}
	for i, f := range s.flags {
		at := elemAt(b, "sched_flags", i)
		switch {
		case seen[f]:
			v.errorf(at, "Duplicate scheduler flag", "%q is listed twice.", f)
		case !slices.Contains([]string{"sh-fallback", "sh-port", "mh-fallback", "mh-port", "flag-1", "flag-2", "flag-3"}, f):
			v.errorf(at, "Invalid scheduler flag", "%q is not a scheduler flag: sh-fallback, sh-port (scheduler sh), mh-fallback, mh-port (scheduler mh).%s", f,
				didYouMean(f, []string{"sh-fallback", "sh-port", "mh-fallback", "mh-port"}))
		case schedOK && strings.HasPrefix(f, "flag-") && (s.scheduler == "sh" || s.scheduler == "mh"):
			v.errorf(at, "Invalid scheduler flag", "Write %s's flags by name (%s-fallback, %s-port), not %q.", s.scheduler, s.scheduler, s.scheduler, f)
		case schedOK && !strings.HasPrefix(f, "flag-") && !strings.HasPrefix(f, s.scheduler+"-"):
			v.errorf(at, "Flag for another scheduler", "%q is a flag of scheduler %q; this service uses %q.", f, f[:2], s.scheduler)
		}
		seen[f] = true
	}
	if b.has("persistence") && (s.persistence%time.Second != 0 || s.persistence > maxPersistence) {
		v.errorf(b.at("persistence"), "Invalid persistence", "Persistence is whole seconds, at most 31 days (744h); %s is not.", s.persistence)
	}
	if b.has("persistence_netmask") {
		if s.persistence == 0 {
			v.errorf(b.at("persistence_netmask"), "Netmask without persistence", "persistence_netmask is the granularity of persistence: set persistence too.")
		} else if _, err := netmaskBits(serviceFamily(s), s.netmask); err != nil {
			v.errorf(b.at("persistence_netmask"), "Invalid persistence_netmask", "%v", err)
		}
	}
	if b.has("persistence_engine") {
		if v.oneOf(b, "persistence_engine", s.engine, engines) && s.persistence == 0 {
			v.errorf(b.at("persistence_engine"), "Persistence engine without persistence", "A persistence engine works on persistence templates: set persistence too.")
		}
	}
	if b.has("instance") && !slices.Contains(instances, s.instance) {
		v.errorf(b.at("instance"), "Unknown VRRP instance", "No vrrp_instance is named %q.%s", s.instance, didYouMean(s.instance, instances))
	}
	if !b.has("instance") && b.has("address") && len(vipsOf) > 0 && !anyVIP(vipsOf, s.addr) && s.announce != AnnounceBGP {
		v.warnf(b.at("address"), "Address is no instance's VIP", "%s is not among the virtual addresses of any vrrp_instance: no director will hold it for this service "+
			"(unless something besides havsd puts it on the director). Add it to an instance's virtual_ipaddress and set instance = \"NAME\".", s.addr)
	}
	if in := vipsOf[s.instance]; in != nil && b.has("address") && !in[s.addr] {
		v.warnf(b.at("address"), "Address is not a VIP of its instance", "%s is not among the virtual addresses of vrrp_instance %q, which this service names: it will not move with that instance.", s.addr, s.instance)
	}
	for _, c := range s.classify {
		if in := vipsOf[s.instance]; in != nil && c.b.has("address") && !in[c.addr] {
			v.warnf(c.b.at("address"), "Address is not a VIP of its instance", "%s is not among the virtual addresses of vrrp_instance %q, which this service names: it will not move with that instance.", c.addr, s.instance)
		}
	}
	if s.quorum < 0 {
		v.errorf(b.at("quorum"), "Invalid quorum", "quorum must not be negative.")
	}
	if s.hysteresis < 0 || (s.quorum >= 0 && s.hysteresis > s.quorum) {
		v.errorf(b.at("hysteresis"), "Invalid hysteresis", "hysteresis must be 0-quorum (%d), not %d.", s.quorum, s.hysteresis)
	}
	if s.quorum > 0 && len(s.reals) == 0 {
		v.errorf(b.at("quorum"), "Quorum without real servers", "quorum %d can never be met: the service has no real_server.", s.quorum)
	} else if sum := weightSum(s); s.quorum > sum {
		v.warnf(b.at("quorum"), "Quorum above the sum of weights", "quorum %d can never be met: the real servers' weights add up to %d even when all are up, "+
			"so the service always counts as down%s.", s.quorum, sum, map[bool]string{true: " and its sorry_server takes the traffic"}[s.sorry != nil])
	}
	v.oneOf(b, "forward", s.forward, forwards)
	v.validateOps(s)
	v.validateTun(b, s.forward, s.tun)
}

// anyVIP reports whether a is a virtual address of some instance, or may
// be: an instance without addresses (an error of its own, often a
// misspelling) could have been meant to hold it.
func anyVIP(vipsOf map[string]map[netip.Addr]bool, a netip.Addr) bool {
	for _, vips := range vipsOf {
		if vips[a] || len(vips) == 0 {
			return true
		}
	}
	return false
}

// weightSum is the sum of the configured weights of s's real servers, the
// most its quorum can count (keepalived's rule).
func weightSum(s *rawService) int64 {
	var sum int64
	for _, r := range s.reals {
		sum += max(r.weight, 0)
	}
	return sum
}

// netmaskBits reads a persistence netmask: a dotted mask or prefix length
// for IPv4, a prefix length for IPv6.
func netmaskBits(family, s string) (int, error) {
	max := 32
	if family == "ipv6" {
		max = 128
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > max {
			return 0, fmt.Errorf("a prefix length for %s is 1-%d, not %d", family, max, n)
		}
		return n, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() || family != "ipv4" {
		return 0, fmt.Errorf("%q is not a netmask: write a prefix length such as \"24\"%s", s,
			map[bool]string{true: ` or a dotted mask such as "255.255.255.0"`}[family == "ipv4"])
	}
	bits, ok := ipvsadm.MaskBits(a.As4())
	if !ok || bits == 0 {
		return 0, fmt.Errorf("%q is not a contiguous netmask", s)
	}
	return bits, nil
}

func (v *validator) classify(s *rawService, marks map[markKey]*hcl.Range) {
	fw := s.b.written("fwmark")
	for _, c := range s.classify {
		b := c.b
		if !fw {
			v.errorf(b.defAt(), "classify without fwmark", "classify blocks set a firewall mark; they belong in a virtual_service with fwmark.")
			continue
		}
		protoOK := v.oneOf(b, "protocol", c.protocol, protocols)
		if b.has("address") {
			fam := "ipv4"
			if c.addr.Is6() {
				fam = "ipv6"
			}
			if fam != serviceFamily(s) {
				v.errorf(b.at("address"), "Address family mismatch", "%s is not an %s address, the family of this fwmark service.", c.addr, serviceFamily(s))
			}
		}
		ports := c.ports
		if len(ports) == 0 {
			ports = []int64{0}
		}
		for i, p := range ports {
			at := elemAt(b, "ports", i)
			if len(c.ports) == 0 {
				at = b.defAt()
			}
			if p < 0 || p > 65535 || (p == 0 && len(c.ports) > 0) {
				v.errorf(at, "Invalid port", "Ports are 1-65535, not %d.", p)
				continue
			}
			if !b.has("address") || !protoOK {
				continue
			}
			k := markKey{c.addr, c.protocol, p}
			if first, dup := marks[k]; dup {
				v.errorf(at, "Traffic classified twice", "%s %s port %d is already classified at %s.", c.protocol, c.addr, p, pos(first))
			} else {
				marks[k] = at
			}
		}
	}
}

func (v *validator) real(s *rawService, r *rawReal, family string, sorry bool) {
	b := r.b
	what := "real server"
	if sorry {
		what = "sorry server"
	}
	if r.addrOK {
		fam := "ipv4"
		if r.addr.Is6() {
			fam = "ipv6"
		}
		if fam != family {
			v.errorf(b.labelAt(), "Address family mismatch", "The %s %s is %s but the service is %s.", what, r.addr, fam, family)
		}
		if r.port > 65535 || r.port == 0 && s.b.has("address") && s.port != 0 {
			v.errorf(b.labelAt(), "Invalid port", "A %s port is 1-65535.", what)
		}
	}
	fwdOK := v.oneOf(b, "forward", r.forward, forwards)
	if !b.has("forward") && !slices.Contains(forwards, r.forward) {
		fwdOK = false // the service's invalid default is reported there
	}
	mapped := r.addrOK && r.port >= 0 && s.b.has("address") && s.port >= 0 && r.port != s.port
	if fwdOK && mapped && (r.forward == "dr" || r.forward == "tun") {
		at := b.labelAt()
		v.errorf(at, "Port mapping with "+r.forward, "Forwarding %q cannot change the port: the %s listens on the service port %d, not %d. Use nat or fullnat to map ports.", r.forward, what, s.port, r.port)
	}
	if sorry && b.has("weight") && r.weight == 0 {
		// It would be programmed at weight 1 instead: refuse rather than change it.
		v.errorf(b.at("weight"), "Sorry server at weight 0", "A sorry server at weight 0 would take no traffic when it is needed; give it weight 1 or more (it is in the table only while quorum is lost).")
	} else if b.has("weight") && (r.weight < 0 || r.weight > 65535) {
		v.errorf(b.at("weight"), "Invalid weight", "weight must be 0-65535, not %d.", r.weight)
	}
	if b.has("snat_source") {
		if fwdOK && r.forward != "fullnat" {
			v.errorf(b.at("snat_source"), "snat_source without fullnat", "snat_source is the source address of full-NAT; this %s forwards with %q.", what, r.forward)
		} else if r.addrOK && r.snat.Is4() != r.addr.Is4() {
			v.errorf(b.at("snat_source"), "Address family mismatch", "snat_source %s is not of the %s's family.", r.snat, what)
		}
	}
	for _, n := range []string{"upper_threshold", "lower_threshold"} {
		val := map[string]int64{"upper_threshold": r.upper, "lower_threshold": r.lower}[n]
		if b.has(n) && (val < 0 || val > 1<<31-1) {
			v.errorf(b.at(n), "Invalid "+n, "%s must be 0-2147483647, not %d.", n, val)
		}
	}
	v.validateTun(b, r.forward, r.tun)
	if r.upper > 0 && r.lower > r.upper {
		v.errorf(b.at("lower_threshold"), "Invalid thresholds", "lower_threshold %d is above upper_threshold %d.", r.lower, r.upper)
	}
	for _, c := range r.checks {
		v.check(c, s, r)
	}
}

// check validates one check; r is nil for a service-level check, which
// applies to every real server of s without checks of its own.
func (v *validator) check(c *rawCheck, s *rawService, r *rawReal) {
	b := c.b
	if !slices.Contains(checkKinds, c.kind) {
		v.errorf(b.labelAt(), "Unknown check kind", "%q is not a check kind: %s.%s", c.kind, strings.Join(checkKinds, ", "), didYouMean(c.kind, checkKinds))
		return
	}
	allowed := append(slices.Clone(checkCommon), checkAttrs[c.kind]...)
	for i := range b.attrs {
		a := &b.attrs[i]
		if name := a.name; !slices.Contains(allowed, name) {
			var kinds []string
			for _, k := range checkKinds {
				if slices.Contains(checkAttrs[k], name) {
					kinds = append(kinds, k)
				}
			}
			v.errorf(a.nameAt(b), "Attribute not valid for a "+c.kind+" check", "%q is only for %s checks.", name, strings.Join(kinds, ", "))
		}
	}
	if c.interval < 10*time.Millisecond {
		v.errorf(b.at("interval"), "Invalid interval", "A check interval is at least 10ms.")
	}
	if c.timeout <= 0 {
		v.errorf(b.at("timeout"), "Invalid timeout", "A check timeout must be positive.")
	}
	if c.retry < 0 || c.retry > 1000 {
		v.errorf(b.at("retry"), "Invalid retry", "retry must be 0-1000 (checks after the first failure before the server is down, as in keepalived), not %d.", c.retry)
	}
	if c.rise < 1 || c.rise > 1000 {
		v.errorf(b.at("rise"), "Invalid rise", "rise must be 1-1000, not %d.", c.rise)
	}
	if b.has("port") && (c.port < 1 || c.port > 65535) {
		v.errorf(b.at("port"), "Invalid port", "A check port is 1-65535, not %d.", c.port)
	}
	v.checkTarget(c, s, r)
	v.checkKind(c)
}

// checkTarget reports a check that needs a port and would get none (real
// servers of a fwmark service have no port), or a source of another family.
func (v *validator) checkTarget(c *rawCheck, s *rawService, r *rawReal) {
	b := c.b
	needsPort := slices.Contains(checkAttrs[c.kind], "port") && !b.has("port") && !b.bad["port"] && c.kind != "smtp"
	reals := []*rawReal{r}
	if r == nil {
		reals = nil
		for _, rr := range s.reals {
			if len(rr.checks) == 0 {
				reals = append(reals, rr)
			}
		}
	}
	for _, rr := range reals {
		if !rr.addrOK {
			continue
		}
		if needsPort && realPort(s, rr) == 0 {
			v.errorf(b.defAt(), "Check without a port", "Real server %s has no port (fwmark service): set port in this %s check.", rr.addr, c.kind)
			needsPort = false
		}
		if b.has("connect_ip") {
			if b.has("source") && c.source.Is4() != c.connectIP.Is4() {
				v.errorf(b.at("source"), "Address family mismatch", "Check source %s is not of the family of connect_ip %s.", c.source, c.connectIP)
			}
			break
		}
		if b.has("source") && c.source.Is4() != rr.addr.Is4() {
			v.errorf(b.at("source"), "Address family mismatch", "Check source %s is not of the family of real server %s.", c.source, rr.addr)
			break
		}
	}
}

var queryTypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"}

func (v *validator) checkKind(c *rawCheck) {
	b := c.b
	for i, st := range c.status {
		lo, hi, ok := statusRange(st)
		if !ok {
			v.errorf(elemAt(b, "status", i), "Invalid status", `%q is not an HTTP status or range: write "200" or "200-299" (100-599).`, st)
		} else if lo > hi {
			v.errorf(elemAt(b, "status", i), "Invalid status", "%q: the range is empty.", st)
		}
	}
	if b.has("digest") {
		if raw, err := hex.DecodeString(c.digest); err != nil || len(raw) != 16 {
			v.errorf(b.at("digest"), "Invalid digest", "digest is an MD5 in hex (32 characters), as `havsd digest` prints it.")
		}
	}
	if b.has("regex") {
		if _, err := regexp.Compile(c.regex); err != nil {
			v.errorf(b.at("regex"), "Invalid regex", "%v.", err)
		}
	}
	v.validateHTTPExtras(c)
	if b.has("bind_if") && (c.bindIf == "" || len(c.bindIf) > 15 || strings.ContainsAny(c.bindIf, "/ \t")) {
		v.errorf(b.at("bind_if"), "Invalid bind_if", "%q is not an interface name (1-15 characters, no '/' or space).", c.bindIf)
	}
	if b.has("max_body") && c.maxBody < 0 {
		v.errorf(b.at("max_body"), "Invalid max_body", "max_body must not be negative.")
	}
	if c.kind == "script" && (len(c.command) == 0 || c.command[0] == "") && !b.bad["command"] {
		v.errorf(b.at("command"), "Script check without a command", `Set command = ["/path/to/program", "arg", ...] (no shell).`)
	}
	if c.kind == "dns" {
		if c.queryName == "" && !b.bad["query_name"] {
			v.errorf(b.at("query_name"), "DNS check without a name", "Set query_name.")
		}
		if b.has("query_type") {
			v.oneOf(b, "query_type", c.queryType, queryTypes)
		}
	}
}

// statusRange reads "200" or "200-299".
func statusRange(s string) (lo, hi int, ok bool) {
	a, z, isRange := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := lo, error(nil)
	if isRange {
		hi, err2 = strconv.Atoi(z)
	}
	if err1 != nil || err2 != nil || lo < 100 || lo > 599 || hi < 100 || hi > 599 {
		return 0, 0, false
	}
	return lo, hi, true
}
