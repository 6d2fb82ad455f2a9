package conf

import (
	"net/netip"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

// compile turns a validated rawFile into a Config. It assumes validate
// found no errors, and it empties f.services.
func compile(f *rawFile) *Config {
	c := &Config{Global: compileGlobal(f.global), Trackers: compileTrackers(f)}
	c.Global.Sync = compileSync(f.global.syncs, f.instances)
	c.BGP = compileBGP(f.bgp)
	for _, in := range f.instances {
		c.Instances = append(c.Instances, compileInstance(in))
		for _, t := range in.trackSvc {
			c.TrackServices = append(c.TrackServices, TrackService{Instance: in.name, Service: t.name, Weight: int(t.weight)})
		}
	}
	for _, g := range f.groups {
		c.SyncGroups = append(c.SyncGroups, vrrp.SyncGroup{Name: g.name, Instances: g.instances, Notify: g.notify})
	}
	c.ServiceGroups = compileServiceGroups(f) // svcgroupfmt.go
	// The services come last and are let go of as they are compiled: a
	// large table's raw model then shrinks while its Config grows, rather
	// than both being held at once.
	c.Services = make([]VirtualService, 0, len(f.services))
	for i, s := range f.services {
		f.services[i] = nil
		vs := compileService(s)
		if s.groupSvc != "" {
			vs.Group, vs.GroupService = s.group, s.groupSvc
		}
		c.Services = append(c.Services, vs)
		for _, cl := range s.classify {
			m := lvs.MarkRule{Mark: uint32(s.fwmark), Addr: cl.addr, Proto: protocolOf(cl.protocol)}
			for _, p := range cl.ports {
				m.Ports = append(m.Ports, uint16(p))
			}
			c.Marks = append(c.Marks, m)
		}
	}
	return c
}

func compileGlobal(g *rawGlobal) Global {
	mode := IPVSAlways
	if g.ipvsMode == "master" {
		mode = IPVSMasterOnly
	}
	return Global{RouterID: g.routerID, ControlSocket: g.controlSocket, MetricsListen: g.metricsListen,
		LogFormat: g.logFormat, LogLevel: g.logLevel, IPVSMode: mode, ReconcileInterval: g.reconcile,
		PruneForeign: g.prune, SetSysctls: g.sysctls, NotifyFIFO: g.notifyFIFO, ScriptUser: scriptUser(g.scriptUser), TimeoutTCP: g.tcp, TimeoutTCPFin: g.tcpFin, TimeoutUDP: g.udp}
}

func compileInstance(in *rawInstance) vrrp.Config {
	c := vrrp.Config{Name: in.name, Interface: in.iface, VRID: uint8(in.vrid), Priority: uint8(in.priority),
		Version: int(in.version), IPv6: in.family == "ipv6", AdvertInterval: in.advert,
		UnicastSource: in.source, UnicastPeers: in.peers, AuthPass: in.authPass,
		Preempt: in.preempt, PreemptDelay: in.preemptDelay, Notify: in.notify, GARP: in.garp,
		DontTrackPrimary: in.dontTrackPrimary, YieldTimeout: in.yieldTimeout}
	for _, v := range in.vips {
		c.VIPs = append(c.VIPs, vrrp.VIP{Prefix: v.prefix, Dev: v.dev})
	}
	for _, t := range in.track {
		// The VRRP instance lowers the priority by Weight while the
		// link is down; a positive weight is also added as a bonus
		// (Trackers.Bonus), so it counts while the link is up.
		// With reverse both turn around: the weight is added while the
		// link is down and a positive one taken off while it is up.
		c.Track = append(c.Track, vrrp.TrackInterface{Name: t.name, Weight: int(max(t.weight, -t.weight)) * sign(t.reverse)})
	}
	return c
}

func compileService(s *rawService) VirtualService {
	svc := lvs.Service{Scheduler: s.scheduler, Timeout: s.persistence, PE: s.engine, OnePacket: s.ops}
	if s.fwmark != 0 {
		fam := lvs.IPv4
		if s.family == "ipv6" {
			fam = lvs.IPv6
		}
		svc.Key = lvs.ServiceKey{Family: fam, Proto: lvs.ProtoNone, FWMark: uint32(s.fwmark)}
	} else {
		svc.Key = lvs.ServiceKey{Family: lvs.FamilyOf(s.addr), Proto: protocolOf(s.protocol), Addr: s.addr, Port: uint16(s.port)}
	}
	for _, f := range s.flags {
		switch f {
		case "sh-fallback", "mh-fallback", "flag-1":
			svc.Flags |= lvs.FlagFallback
		case "sh-port", "mh-port", "flag-2":
			svc.Flags |= lvs.FlagPort
		case "flag-3":
			svc.Flags |= lvs.FlagSched3
		}
	}
	if s.netmask != "" {
		svc.NetmaskBits, _ = netmaskBits(serviceFamily(s), s.netmask)
	}
	vs := VirtualService{Name: s.name, Service: svc, Quorum: int(s.quorum), Hysteresis: int(s.hysteresis),
		Instance: s.instance, DrainFor: s.drainFor, QuorumUp: s.quorumUp, QuorumDown: s.quorumDn, Omega: s.omega,
		Announce: s.announce}
	if len(s.reals) > 0 {
		vs.Reals = make([]RealServer, 0, len(s.reals))
	}
	for _, r := range s.reals {
		vs.Reals = append(vs.Reals, compileReal(s, r, s.checks))
	}
	if s.sorry != nil {
		sr := compileReal(s, s.sorry, nil)
		// A sorry server is never health-checked; InhibitOnFailure is
		// keepalived's sorry_server_inhibit: kept at weight 0 while unused.
		sr.InhibitOnFailure = s.sorryInhibit
		vs.Sorry = &sr
	}
	return vs
}

func compileReal(s *rawService, r *rawReal, inherited []*rawCheck) RealServer {
	port := uint16(realPort(s, r))
	rs := RealServer{Dest: lvs.Destination{Addr: r.addr, Port: port, Weight: int(r.weight),
		Forward: forwardOf(r.forward), UpperThreshold: uint32(r.upper), LowerThreshold: uint32(r.lower)},
		FullNAT: r.forward == "fullnat", SNATSource: r.snat, InhibitOnFailure: r.inhibit,
		NotifyUp: r.notifyUp, NotifyDown: r.notifyDown}
	compileTun(&rs.Dest, r.tun)
	cs := r.checks
	if len(cs) == 0 {
		cs = inherited
	}
	if len(cs) > 0 {
		rs.Checks = make([]checks.Spec, 0, len(cs))
	}
	for _, c := range cs {
		rs.Checks = append(rs.Checks, compileCheck(c, r.addr, port))
	}
	rs.TrackFiles = compileFileChecks(r.trackFiles) // filecheck.go
	return rs
}

func forwardOf(f string) lvs.Forward {
	switch f {
	case "dr":
		return lvs.Route
	case "tun":
		return lvs.Tunnel
	}
	return lvs.Masq // nat and fullnat
}

var kinds = map[string]checks.Kind{"tcp": checks.KindTCP, "http": checks.KindHTTP, "https": checks.KindHTTPS,
	"script": checks.KindScript, "udp": checks.KindUDP, "dns": checks.KindDNS, "ping": checks.KindPing, "smtp": checks.KindSMTP}

func compileCheck(c *rawCheck, addr netip.Addr, port uint16) checks.Spec {
	if c.port != 0 {
		port = uint16(c.port)
	} else if c.kind == "smtp" {
		port = DefaultSMTPPort // keepalived's SMTP_CHECK default
	}
	if c.connectIP.IsValid() {
		addr = c.connectIP
	}
	sp := checks.Spec{Kind: kinds[c.kind], Target: netip.AddrPortFrom(addr, port), Source: c.source,
		// keepalived's retry N: N more checks after the first failure.
		Interval: c.interval, Timeout: c.timeout, Retry: int(c.retry) + 1, Rise: int(c.rise),
		DelayBeforeRetry: c.delay, Warmup: c.warmup, Alpha: c.alpha, BindIf: c.bindIf}
	switch c.kind {
	case "http", "https":
		h := &checks.HTTPSpec{Path: c.path, Host: c.host, Digest: c.digest, Regex: c.regex,
			TLSServerName: c.tlsName, TLSVerify: c.tlsVerify, MaxBody: c.maxBody,
			RegexNoMatch: c.regexNoMatch, TLSCA: c.tlsCA, TLSCert: c.tlsCert, TLSKey: c.tlsKey}
		if h.Path == "" {
			h.Path = "/"
		}
		for _, st := range c.status {
			lo, hi, _ := statusRange(st)
			h.Status = append(h.Status, checks.StatusRange{Lo: lo, Hi: hi})
		}
		sp.HTTP = h
	case "script":
		sp.Script = &checks.ScriptSpec{Argv: c.command, Dynamic: c.miscDynamic}
	case "udp":
		sp.UDP = &checks.UDPSpec{Payload: []byte(c.payload), ExpectReply: c.expectReply}
	case "dns":
		qt := c.queryType
		if qt == "" {
			qt = "A"
		}
		sp.DNS = &checks.DNSSpec{Name: c.queryName, Type: qt}
	case "smtp":
		sp.SMTP = &checks.SMTPSpec{HeloName: c.heloName}
	}
	return sp
}
