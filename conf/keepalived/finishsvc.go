package keepalived

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
)

var forwards = map[string]lvs.Forward{"nat": lvs.Masq, "dr": lvs.Route, "tun": lvs.Tunnel}

func realKey(s *service, r *real) string {
	if s.fwmark != 0 && r.port == 0 {
		return r.addr.String()
	}
	return netip.AddrPortFrom(r.addr, realPort(s, r)).String()
}

// realPort is the port keepalived gives a real (or sorry) server: a NAT
// server without one takes the virtual server's; a DR or TUN server has
// the virtual server's (none for fwmark), whatever it says. Servers of a
// virtual_server_group keep what they say; keepalived programs 0 for
// nothing (the IPVS oracle showed it), which IPVS reads as the service's
// port and havsd writes as that port.
func realPort(s *service, r *real) uint16 {
	switch {
	case s.fromGroup && (r.port != 0 || s.fwmark != 0):
		return r.port
	case s.fromGroup:
		return s.port
	case forwardOf(s, r) == "nat":
		if r.port == 0 && s.fwmark == 0 {
			return s.port
		}
		return r.port
	case s.fwmark != 0:
		return 0
	}
	return s.port
}

// forwardOf is the forwarding method of a real or sorry server.
func forwardOf(s *service, r *real) string {
	fwd := r.forward
	if r == s.sorry && s.sorryFwd != "" {
		fwd = s.sorryFwd
	}
	if fwd == "" {
		fwd = s.forward
	}
	if fwd == "" {
		fwd = "nat"
	}
	return fwd
}

// finishService resolves a virtual server's defaults into a VirtualService.
func (c *converter) finishService(s *service, t templates, labels map[string]int) (conf.VirtualService, bool) {
	vs := t.service
	vs.Reals, vs.Sorry = nil, nil
	if s.fwmark == 0 && s.protocol == "" {
		// keepalived: "no protocol set - defaulting to UDP" (the
		// kernel's default for protocol 0), seen in its IPVS table.
		s.protocol = "udp"
		c.note(s.node, "no protocol: keepalived programs a UDP service (it logs \"no protocol set - defaulting to UDP\"); so does the conversion. Add protocol TCP to keepalived.conf if TCP was meant")
	}
	name := label(s)
	if s.fromGroup {
		name = s.groupSvc + "/" + memberName(s) // as havsd names a group's members
		vs.Group, vs.GroupService = s.groupName, s.groupSvc
	}
	if labels[name]++; labels[name] > 1 {
		name = fmt.Sprintf("%s-%d", name, labels[name])
	}
	vs.Name = name
	svc := vs.Service
	if s.fwmark != 0 {
		fam := lvs.IPv4
		if s.family == "ipv6" {
			fam = lvs.IPv6
		}
		svc.Key = lvs.ServiceKey{Family: fam, Proto: lvs.ProtoNone, FWMark: s.fwmark}
	} else {
		proto := map[string]lvs.Protocol{"tcp": lvs.TCP, "udp": lvs.UDP, "sctp": lvs.SCTP}[s.protocol]
		svc.Key = lvs.ServiceKey{Family: lvs.FamilyOf(s.addr), Proto: proto, Addr: s.addr, Port: s.port}
		if s.family != "" {
			c.note(s.node, "ip_family applies to fwmark services only; the address decides")
		}
	}
	if s.sched != "" {
		svc.Scheduler = s.sched
	} else {
		svc.Scheduler = "wlc" // keepalived's default, as ipvsadm's
	}
	svc.Flags = c.schedFlags(s)
	svc.Timeout = s.persistence
	if s.netmask != "" {
		bits, ok := netmaskBits(svc.Key.Family, s.netmask)
		if !ok {
			c.invalid(s.node, "persistence_granularity %q is not a netmask", s.netmask)
		}
		svc.NetmaskBits = bits
	}
	svc.PE = s.engine
	c.finishOps(s, &svc)
	vs.Service = svc
	vs.Quorum, vs.Hysteresis = s.quorum.or(1), s.hysteresis
	vs.QuorumUp, vs.QuorumDown = s.quorumUp, s.quorumDown
	vs.Omega = s.omega
	if vs.Quorum == 1 && vs.Hysteresis == 0 {
		vs.Quorum = 0 // havsd's default means keepalived's quorum 1
	}
	for _, r := range s.reals {
		vs.Reals = append(vs.Reals, c.finishReal(s, r, t, true))
	}
	if s.sorry != nil {
		sr := c.finishReal(s, s.sorry, t, false)
		sr.InhibitOnFailure = s.sorryInhibit // sorry_server_inhibit
		vs.Sorry = &sr
	} else if s.sorryInhibit {
		c.invalid(s.node, "sorry_server_inhibit without a sorry_server")
	}
	return vs, true
}

// schedFlags keeps the flags the scheduler takes, as keepalived does.
func (c *converter) schedFlags(s *service) lvs.SchedFlags {
	var f lvs.SchedFlags
	for _, fl := range s.flags {
		sched, what, _ := strings.Cut(fl, "-")
		if (sched == "sh" || sched == "mh") && sched != s.sched {
			c.invalid(s.node, "%s applies to the %s scheduler only", fl, sched)
			continue
		}
		switch what {
		case "fallback", "1":
			f |= lvs.FlagFallback
		case "port", "2":
			f |= lvs.FlagPort
		case "3":
			f |= lvs.FlagSched3
		}
	}
	return f
}

func netmaskBits(fam lvs.Family, s string) (int, bool) {
	if fam == lvs.IPv6 {
		var bits int
		if _, err := fmt.Sscanf(s, "%d", &bits); err != nil || bits < 1 || bits > 128 {
			return 0, false
		}
		return bits, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for v&0x80000000 != 0 {
		bits++
		v <<= 1
	}
	if v != 0 {
		return 0, false
	}
	return bits, true
}

func (c *converter) finishReal(s *service, r *real, t templates, checked bool) conf.RealServer {
	rs := t.real
	rs.Checks = nil
	fwd := forwardOf(s, r)
	port := realPort(s, r)
	switch {
	case r.port != 0 && port != r.port:
		c.note(r.node, "keepalived resets the port of a %s server to %d (it warns that the ports don't match)", fwd, port)
	case s.fromGroup && r.port == 0 && port != 0:
		c.note(r.node, "in a virtual_server_group keepalived programs this server with port 0, which IPVS reads as each member's port; havsd gives a real server without a port each member's port too")
	}
	rs.Dest = lvs.Destination{Addr: r.addr, Port: port, Weight: r.weight.or(s.weight.or(1)),
		Forward: forwards[fwd], UpperThreshold: uint32(r.upper), LowerThreshold: uint32(r.lower)}
	if r == s.sorry && s.sorryFwd != "" {
		applyTun(&rs.Dest, s.sorryTun, s.tun)
	} else {
		applyTun(&rs.Dest, r.tun, s.tun)
	}
	if !checked {
		rs.InhibitOnFailure = false
		return rs
	}
	rs.InhibitOnFailure = r.defaults.inhibit.or(s.defaults.inhibit.or(false))
	rs.NotifyUp, rs.NotifyDown = r.notifyUp, r.notifyDown
	for _, k := range r.checks {
		rs.Checks = append(rs.Checks, c.finishCheck(s, r, k, t)...)
	}
	rs.TrackFiles = c.finishFileChecks(r) // filecheck.go
	return rs
}

// finishCheck resolves a checker's settings: its own, else the real
// server's, else the virtual server's, else keepalived's default for the
// kind. HTTP_GET and SSL_GET give one check per url.
func (c *converter) finishCheck(s *service, r *real, k *check, t templates) []checks.Spec {
	sp := t.checks[k.kind].Checks[0]
	d := []checkDefaults{k.own, r.defaults, s.defaults}
	dur := func(f func(*checkDefaults) opt[time.Duration], def time.Duration) time.Duration {
		for i := range d {
			if o := f(&d[i]); o.set {
				return o.v
			}
		}
		return def
	}
	interval := dur(func(x *checkDefaults) opt[time.Duration] { return x.delayLoop }, kaDelayLoop)
	retry, dbrDef := 1, time.Second
	switch k.kind {
	case "http", "https":
		dbrDef = kaHTTPRetryWait
	case "dns":
		retry, dbrDef = 3, interval
	case "script":
		retry = 0
	}
	for i := range d {
		if d[i].retry.set {
			retry = d[i].retry.v
			break
		}
	}
	sp.Interval = interval
	sp.Timeout = dur(func(x *checkDefaults) opt[time.Duration] { return x.timeout }, kaConnTimeout)
	if k.kind == "script" {
		sp.Timeout = k.miscTimeout.or(s.defaults.delayLoop.or(kaDelayLoop))
	}
	sp.Retry = retry + 1 // keepalived: retries after the first failure
	sp.DelayBeforeRetry = dur(func(x *checkDefaults) opt[time.Duration] { return x.dbr }, dbrDef)
	sp.Warmup = dur(func(x *checkDefaults) opt[time.Duration] { return x.warmup }, interval)
	alpha := false
	for i := range d {
		if d[i].alpha.set {
			alpha = d[i].alpha.v
			break
		}
	}
	sp.Alpha = alpha
	port := realPort(s, r)
	if k.kind == "smtp" {
		port = conf.DefaultSMTPPort // keepalived's SMTP_CHECK default
	}
	if k.port.set {
		port = uint16(k.port.v)
	}
	sp.Target = netip.AddrPortFrom(r.addr, port)
	if k.connectIP.IsValid() {
		sp.Target = netip.AddrPortFrom(k.connectIP, port)
	}
	sp.Source = k.source
	if k.kind != "ping" && k.kind != "script" {
		sp.BindIf = k.bindIf
	} else if k.bindIf != "" {
		c.note(k.node, "bind_if is not taken by havsd's %s check: dropped", k.kind)
	}
	switch k.kind {
	case "script":
		if len(k.command) == 0 {
			c.invalid(k.node, "MISC_CHECK without misc_path")
			return nil
		}
		sp.Script = &checks.ScriptSpec{Argv: k.command, Dynamic: k.dynamic}
	case "dns":
		dt, dn := k.dnsType, k.dnsName
		if dt == "" {
			dt = "SOA"
		}
		if dn == "" {
			dn = "."
		}
		sp.DNS = &checks.DNSSpec{Name: dn, Type: dt}
	case "udp":
		sp.UDP = &checks.UDPSpec{Payload: []byte(k.payload), ExpectReply: k.reply}
	case "smtp":
		sp.SMTP = &checks.SMTPSpec{HeloName: k.heloName}
	case "http", "https":
		return c.httpChecks(s, r, k, sp, d)
	}
	return []checks.Spec{sp}
}

func (c *converter) httpChecks(s *service, r *real, k *check, sp checks.Spec, d []checkDefaults) []checks.Spec {
	if len(k.urls) == 0 {
		c.invalid(k.node, "%s without a url block", k.node.Keyword())
		return nil
	}
	host := ""
	for i := range d {
		if d[i].host.set {
			host = d[i].host.v
			break
		}
	}
	var out []checks.Spec
	for _, u := range k.urls {
		x := sp
		h := &checks.HTTPSpec{Path: u.path, Host: host, Digest: strings.ToLower(u.digest), Regex: u.regex}
		if sp.HTTP != nil {
			tmp := *sp.HTTP
			tmp.Path, tmp.Host, tmp.Digest, tmp.Regex = h.Path, h.Host, h.Digest, h.Regex
			h = &tmp
		}
		if u.host != "" {
			h.Host = u.host
		}
		h.RegexNoMatch = u.regexNoMatch && h.Regex != ""
		if u.regexNoMatch && h.Regex == "" {
			c.note(u.node, "regex_no_match without a regex has nothing to invert: dropped")
		}
		if h.Path == "" {
			h.Path = "/"
		}
		for _, st := range u.status {
			lo, hi, ok := statusRange(st)
			if !ok {
				c.invalid(u.node, "status_code %q is not a code or a range", st)
				continue
			}
			h.Status = append(h.Status, checks.StatusRange{Lo: lo, Hi: hi})
		}
		if k.sni == "\x00virtualhost" {
			h.TLSServerName = h.Host
		} else if k.sni != "" {
			h.TLSServerName = k.sni
		}
		x.HTTP = h
		out = append(out, x)
	}
	return out
}

func statusRange(s string) (int, int, bool) {
	var lo, hi int
	if n, _ := fmt.Sscanf(s, "%d-%d", &lo, &hi); n == 2 && lo >= 100 && hi <= 599 && lo <= hi {
		return lo, hi, true
	}
	if _, err := fmt.Sscanf(s, "%d", &lo); err == nil && lo >= 100 && lo <= 599 && fmt.Sprint(lo) == s {
		return lo, lo, true
	}
	return 0, 0, false
}
