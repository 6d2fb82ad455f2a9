package conf

import (
	"bytes"
	"net/netip"
	"slices"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/havsd/havsd/lvs"
	"github.com/zclconf/go-cty/cty"
)

// ServiceGroup is a virtual_service_group: addresses (as written,
// "192.0.2.1:80") and firewall marks sharing one pool. Each member is a
// service of its own in Config.Services, with Group and GroupService set.
type ServiceGroup struct {
	Name      string
	Addresses []string
	FWMarks   []uint32
}

// compileServiceGroups returns the virtual_service_group blocks, the first
// of each name.
func compileServiceGroups(f *rawFile) []ServiceGroup {
	var out []ServiceGroup
	for _, g := range f.svcGroups {
		if slices.ContainsFunc(out, func(x ServiceGroup) bool { return x.Name == g.name }) {
			continue
		}
		sg := ServiceGroup{Name: g.name, Addresses: slices.Clone(g.addrs)}
		for _, m := range g.marks {
			sg.FWMarks = append(sg.FWMarks, uint32(m))
		}
		out = append(out, sg)
	}
	return out
}

// formatServices writes the services: a group's members as one
// virtual_service naming the group, after the virtual_service_group block,
// when they differ only by what the group gives them (their address or
// mark, and the ports that follow it); otherwise each member on its own.
func formatServices(body *hclwrite.Body, cfg *Config) {
	written := map[string]bool{} // groups
	done := map[string]bool{}    // group services
	for _, s := range cfg.Services {
		if s.GroupService == "" {
			body.AppendNewline()
			formatService(body.AppendNewBlock("virtual_service", []string{s.Name}).Body(), s, cfg.Marks)
			continue
		}
		if done[s.GroupService+"\x00"+s.Group] {
			continue
		}
		done[s.GroupService+"\x00"+s.Group] = true
		var members []VirtualService
		for _, m := range cfg.Services {
			if m.GroupService == s.GroupService && m.Group == s.Group {
				members = append(members, m)
			}
		}
		gi := slices.IndexFunc(cfg.ServiceGroups, func(g ServiceGroup) bool { return g.Name == s.Group })
		tmpl, ok := groupTemplate(members, cfg.Marks)
		if gi < 0 || !ok {
			for _, m := range members {
				body.AppendNewline()
				formatService(body.AppendNewBlock("virtual_service", []string{m.Name}).Body(), m, cfg.Marks)
			}
			continue
		}
		if !written[s.Group] {
			written[s.Group] = true
			formatServiceGroup(body, cfg.ServiceGroups[gi])
		}
		body.AppendNewline()
		b := body.AppendNewBlock("virtual_service", []string{s.GroupService}).Body()
		b.SetAttributeValue("group", str(s.Group))
		for _, m := range members {
			if k := m.Service.Key; k.FWMark == 0 {
				setStr(b, "protocol", k.Proto.String(), "tcp")
				break
			}
		}
		formatService(b, tmpl, nil)
		b.RemoveAttribute("fwmark")
	}
	for _, g := range cfg.ServiceGroups {
		if !written[g.Name] && !slices.ContainsFunc(cfg.Services, func(s VirtualService) bool { return s.Group == g.Name }) {
			formatServiceGroup(body, g) // unused: kept, as written
		}
	}
}

func formatServiceGroup(body *hclwrite.Body, g ServiceGroup) {
	body.AppendNewline()
	b := body.AppendNewBlock("virtual_service_group", []string{g.Name}).Body()
	if len(g.Addresses) > 0 {
		b.SetAttributeValue("address", strList(g.Addresses))
	}
	if len(g.FWMarks) > 0 {
		var ms []cty.Value
		for _, m := range g.FWMarks {
			ms = append(ms, num(int64(m)))
		}
		b.SetAttributeValue("fwmark", cty.ListVal(ms))
	}
}

// groupTemplate returns the one service the members of a group were made
// from, keyed by a placeholder mark: real servers and checks whose ports
// follow each member's (the member's port, none for a mark) have none,
// others keep theirs. It reports false when the members differ otherwise,
// or use what one block cannot say (classify rules, IPv6 marks beside
// addresses).
func groupTemplate(members []VirtualService, marks []lvs.MarkRule) (VirtualService, bool) {
	hasAddr := slices.ContainsFunc(members, func(m VirtualService) bool { return m.Service.Key.FWMark == 0 })
	for _, m := range members {
		k := m.Service.Key
		if k.FWMark != 0 && (k.Family == lvs.IPv6 && hasAddr || slices.ContainsFunc(marks, func(r lvs.MarkRule) bool { return r.Mark == k.FWMark })) {
			return VirtualService{}, false
		}
		if len(m.Reals) != len(members[0].Reals) || (m.Sorry == nil) != (members[0].Sorry == nil) {
			return VirtualService{}, false
		}
	}
	// pools returns each member's real servers, the sorry server last.
	pools := make([][]RealServer, len(members))
	for j, m := range members {
		pools[j] = slices.Clone(m.Reals)
		if m.Sorry != nil {
			pools[j] = append(pools[j], *m.Sorry)
		}
	}
	for i := range pools[0] {
		follow := true
		var checkFollow []bool
		for j, m := range members {
			if pools[j][i].Dest.Port != memberPort(m) {
				follow = false
			}
			if len(pools[j][i].Checks) != len(pools[0][i].Checks) {
				return VirtualService{}, false
			}
		}
		for c := range pools[0][i].Checks {
			checkFollow = append(checkFollow, follow && checkFollows(members, pools, i, c))
		}
		for j := range members {
			r := &pools[j][i]
			if follow {
				r.Dest.Port = 0
			}
			r.Checks = slices.Clone(r.Checks)
			for c := range r.Checks {
				if checkFollow[c] {
					r.Checks[c].Target = netip.AddrPortFrom(r.Checks[c].Target.Addr(), 0)
				}
			}
		}
	}
	var first []byte
	var out VirtualService
	for j, m := range members {
		t := m
		t.Name, t.Group, t.GroupService = "", "", ""
		t.Service.Key = lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.ProtoNone, FWMark: 1}
		t.Reals = pools[j][:len(m.Reals)]
		if m.Sorry != nil {
			s := pools[j][len(m.Reals)]
			t.Sorry = &s
		}
		f := hclwrite.NewEmptyFile()
		formatService(f.Body(), t, nil)
		if j == 0 {
			first, out = f.Bytes(), t
		} else if !bytes.Equal(first, f.Bytes()) {
			return VirtualService{}, false
		}
	}
	return out, true
}

// memberPort is the port a real server without one takes in member m.
func memberPort(m VirtualService) uint16 {
	if m.Service.Key.FWMark != 0 {
		return 0
	}
	return m.Service.Key.Port
}

// checkFollows reports whether check c of real server i probes each
// member's real-server port.
func checkFollows(members []VirtualService, pools [][]RealServer, i, c int) bool {
	for j := range members {
		r := pools[j][i]
		if c >= len(r.Checks) || r.Checks[c].Target.Port() != memberPort(members[j]) {
			return false
		}
	}
	return true
}
