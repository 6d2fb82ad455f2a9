package keepalived

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/havsd/havsd/conf"
)

// maxGroupAddrs bounds the addresses one virtual_server_group line expands to.
const maxGroupAddrs = 256

// vsgEntry is one address (with its port) or fwmark of a
// virtual_server_group.
type vsgEntry struct {
	node   *Node
	addr   netip.Addr
	port   uint16
	fwmark uint32
	family string
}

// serverGroup reads virtual_server_group NAME { ADDR[-END|/LEN] [PORT] ...
// fwmark N [inet|inet6] }. A virtual_server using it becomes one
// virtual_service per address and fwmark: the IPVS services keepalived
// programs for it.
func (c *converter) serverGroup(n *Node) {
	name, ok := c.arg(n, 1)
	if !ok {
		return
	}
	c.extra(n, 1)
	if c.vsgs == nil {
		c.vsgs = map[string][]vsgEntry{}
	}
	if _, dup := c.vsgs[name]; dup {
		c.invalid(n, "virtual_server_group %s is defined twice", name)
		return
	}
	var entries []vsgEntry
	for _, m := range n.Children {
		if m.Keyword() == "fwmark" {
			e, ok := c.groupMark(m)
			if ok {
				entries = append(entries, e)
			}
			continue
		}
		addrs, ok := expandRange(m.Keyword())
		if !ok {
			c.invalid(m, "%q is not an address, a range (A-B) or a prefix of at most %d addresses", m.Keyword(), maxGroupAddrs)
			continue
		}
		var port uint16
		if len(m.Words) > 1 {
			p, err := strconv.ParseUint(m.Words[1], 10, 16)
			if err != nil {
				c.invalid(m, "port %q is not in 0..65535", m.Words[1])
				continue
			}
			port = uint16(p)
		}
		c.extra(m, 1)
		for _, a := range addrs {
			entries = append(entries, vsgEntry{node: m, addr: a, port: port})
		}
	}
	c.vsgs[name] = entries
	if c.vsgNodes == nil {
		c.vsgNodes = map[string]*Node{}
	}
	c.vsgNodes[name] = n
}

func (c *converter) groupMark(m *Node) (vsgEntry, bool) {
	s, ok := c.arg(m, 1)
	if !ok {
		return vsgEntry{}, false
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v == 0 {
		c.invalid(m, "fwmark %q is not an integer in 1..4294967295", s)
		return vsgEntry{}, false
	}
	e := vsgEntry{node: m, fwmark: uint32(v), family: "ipv4"}
	if len(m.Words) > 2 {
		switch m.Words[2] {
		case "inet":
		case "inet6":
			e.family = "ipv6"
		default:
			c.invalid(m, "%q is not inet or inet6", m.Words[2])
			return vsgEntry{}, false
		}
	}
	c.extra(m, 2)
	return e, true
}

// expandRange reads "10.0.0.1", "10.0.0.1-10" (the last part ranges),
// "10.0.0.250-10.0.1.5" and "10.0.0.8/29".
func expandRange(s string) ([]netip.Addr, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		p = p.Masked()
		if p.Addr().BitLen()-p.Bits() > 8 {
			return nil, false
		}
		var out []netip.Addr
		for a := p.Addr(); p.Contains(a); a = a.Next() {
			out = append(out, a)
		}
		return out, true
	}
	lo, hiS, isRange := strings.Cut(s, "-")
	first, err := netip.ParseAddr(lo)
	if err != nil || first.Zone() != "" {
		return nil, false
	}
	if !isRange {
		return []netip.Addr{first.Unmap()}, true
	}
	last, err := netip.ParseAddr(hiS)
	if err != nil {
		// Only the last part: decimal for IPv4, hex for IPv6.
		sep, base := ".", 10
		if first.Is6() {
			sep, base = ":", 16
		}
		i := strings.LastIndex(lo, sep)
		v, perr := strconv.ParseUint(hiS, base, 16)
		if i < 0 || perr != nil {
			return nil, false
		}
		last, err = netip.ParseAddr(lo[:i+1] + strconv.FormatUint(v, base))
		if err != nil {
			return nil, false
		}
	}
	if last.Less(first) || last.BitLen() != first.BitLen() {
		return nil, false
	}
	n := new(big.Int).Sub(new(big.Int).SetBytes(last.AsSlice()), new(big.Int).SetBytes(first.AsSlice()))
	if n.Cmp(big.NewInt(maxGroupAddrs-1)) > 0 {
		return nil, false
	}
	var out []netip.Addr
	for a := first; ; a = a.Next() {
		out = append(out, a.Unmap())
		if a == last {
			return out, true
		}
	}
}

// expandGroup returns one service per entry of the group s uses: the
// members of the virtual_service (labelled svcLabel) that names the
// virtual_service_group, as havsd expands it too.
func (c *converter) expandGroup(s *service, svcLabel string) []*service {
	entries, ok := c.vsgs[s.group]
	if !ok {
		c.left(s.node, fmt.Sprintf("uses virtual_server_group %s, which is not defined (keepalived ignores the virtual server)", s.group), "")
		return nil
	}
	var out []*service
	for _, e := range entries {
		x := *s
		x.group, x.node, x.fromGroup = "", s.node, true
		x.groupName, x.groupSvc = s.group, svcLabel
		x.addr, x.port, x.fwmark = e.addr, e.port, e.fwmark
		if e.fwmark != 0 {
			x.family = e.family
		}
		out = append(out, &x)
	}
	return out
}

// memberName is the part of a group member's name after its service's:
// "ADDR:PORT" or "fwmark-N".
func memberName(s *service) string {
	if s.fwmark != 0 {
		return fmt.Sprintf("fwmark-%d", s.fwmark)
	}
	return netip.AddrPortFrom(s.addr, s.port).String()
}

// finishGroups adds the virtual_service_groups the converted services use,
// with their members as keepalived expands them (ranges and prefixes one
// address at a time). A member's instance is kept only when every member
// of its service has the same, since the grouped service has one.
func (c *converter) finishGroups(cfg *conf.Config) {
	instances := map[string]map[string]bool{} // group service -> instances of its members
	for _, vs := range cfg.Services {
		if vs.GroupService == "" {
			continue
		}
		if instances[vs.GroupService] == nil {
			instances[vs.GroupService] = map[string]bool{}
		}
		instances[vs.GroupService][vs.Instance] = true
		if slices.ContainsFunc(cfg.ServiceGroups, func(g conf.ServiceGroup) bool { return g.Name == vs.Group }) {
			continue
		}
		g := conf.ServiceGroup{Name: vs.Group}
		for _, e := range c.vsgs[vs.Group] {
			if e.fwmark != 0 {
				g.FWMarks = append(g.FWMarks, e.fwmark)
			} else {
				g.Addresses = append(g.Addresses, netip.AddrPortFrom(e.addr, e.port).String())
			}
		}
		cfg.ServiceGroups = append(cfg.ServiceGroups, g)
		c.note(c.vsgNodes[vs.Group], "virtual_service_group %s: %d address(es) and %d fwmark(s); keepalived and havsd program one IPVS service for each, and havsd checks each real server once for all of them", vs.Group, len(g.Addresses), len(g.FWMarks))
	}
	for i := range cfg.Services {
		vs := &cfg.Services[i]
		if vs.GroupService != "" && len(instances[vs.GroupService]) > 1 {
			vs.Instance = ""
		}
	}
}
