package conf

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// virtual_service_group, keepalived's virtual_server_group: several
// addresses (with ports) and firewall marks that share one pool of real
// servers. A virtual_service names the group instead of an address or
// fwmark, and is expanded before validation into one service per member,
// named "SERVICE/MEMBER", each an IPVS service of its own. The members'
// real servers carry identical checks, which the checks scheduler runs
// once for all of them.

type rawSvcGroup struct {
	b     *block
	name  string
	addrs []string
	marks []int64
	used  bool
}

var svcGroupSchema = &hcl.BodySchema{Attributes: attrs("address", "fwmark")}

func (d *decoder) svcGroup(hb *hcl.Block) *rawSvcGroup {
	b := d.open(hb, hb.Body, svcGroupSchema)
	g := &rawSvcGroup{b: b, name: hb.Labels[0]}
	d.strs(b, "address", &g.addrs)
	d.nums(b, "fwmark", &g.marks)
	return g
}

// expandServiceGroups replaces every virtual_service that names a group by
// one service per member of the group, and returns the errors of the
// groups themselves.
func expandServiceGroups(f *rawFile) hcl.Diagnostics {
	if len(f.svcGroups) == 0 && !slices.ContainsFunc(f.services, func(s *rawService) bool { return s.group != "" }) {
		return nil
	}
	v := &validator{}
	groups := map[string]*rawSvcGroup{}
	var names []string
	for _, g := range f.svcGroups {
		if first, dup := groups[g.name]; dup {
			v.errorf(g.b.labelAt(), "Duplicate virtual_service_group", "A virtual_service_group named %q is already defined at %s.", g.name, pos(first.b.labelAt()))
			continue
		}
		groups[g.name] = g
		names = append(names, g.name)
		if len(g.addrs) == 0 && len(g.marks) == 0 {
			v.errorf(g.b.defAt(), "Empty virtual_service_group", "List the group's members: address = [\"192.0.2.10:80\", ...] and/or fwmark = [7, ...].")
		}
	}
	out := f.services[:0:0]
	for _, s := range f.services {
		if s.group == "" {
			out = append(out, s)
			continue
		}
		g := groups[s.group]
		switch {
		case g == nil:
			v.errorf(s.b.at("group"), "Unknown virtual_service_group", "No virtual_service_group is named %q.%s", s.group, didYouMean(s.group, names))
			continue
		case s.b.written("address") || s.b.written("fwmark"):
			at := s.b.at("address")
			if s.b.written("fwmark") {
				at = s.b.at("fwmark")
			}
			v.errorf(at, "Group and address", "A service of a virtual_service_group takes its addresses and marks from the group %q: remove address and fwmark here.", s.group)
			continue
		}
		g.used = true
		out = append(out, v.members(s, g)...)
	}
	for _, g := range f.svcGroups {
		if !g.used && groups[g.name] == g {
			v.warnf(g.b.labelAt(), "Unused virtual_service_group", "No virtual_service names group = %q: its addresses are not balanced.", g.name)
		}
	}
	f.services = out
	return v.diags
}

// members returns a copy of s per member of g: each copy has the member's
// address or mark, as if written in s, at the member's place in the group.
func (v *validator) members(s *rawService, g *rawSvcGroup) []*rawService {
	var out []*rawService
	for i, text := range g.addrs {
		at := elemAt(g.b, "address", i)
		a, port, err := parseAddrPort(text)
		if err != nil {
			v.errorf(at, "Invalid service address", `%q is not an address and port: write "192.0.2.1:80" or "[2001:db8::1]:80".`, text)
			continue
		}
		m := member(s, "address", cty.StringVal(text), at)
		m.name = s.name + "/" + netip.AddrPortFrom(a, uint16(max(port, 0))).String()
		m.groupSvc = s.name
		m.addr, m.port = a, port
		out = append(out, m)
	}
	for i, mark := range g.marks {
		at := elemAt(g.b, "fwmark", i)
		m := member(s, "fwmark", cty.NumberIntVal(mark), at)
		m.name = s.name + "/fwmark-" + strconv.FormatInt(mark, 10)
		m.fwmark = mark
		m.groupSvc = s.name
		if len(g.addrs) > 0 {
			m.b.delAttr("protocol") // the address members' protocol
		}
		out = append(out, m)
	}
	return out
}

// member copies s with a synthetic attribute name = val at rng.
func member(s *rawService, name string, val cty.Value, rng *hcl.Range) *rawService {
	m := *s
	b := *s.b
	b.attrs = slices.Clone(s.b.attrs)
	a := attrFrom(name, hcl.StaticExpr(val, *rng), *rng)
	a.file = rng.Filename
	b.setAttr(a)
	m.b = &b
	return &m
}

// dedupeDiagnostics drops repeated diagnostics (the same message at the
// same place).
func dedupeDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	out := diags[:0]
	for _, d := range diags {
		k := fmt.Sprint(d.Severity, d.Summary, d.Detail, d.Subject)
		if d.Subject != nil {
			k = fmt.Sprint(d.Severity, "|", d.Summary, "|", d.Detail, "|", *d.Subject)
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}
