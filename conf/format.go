package conf

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/ipvsadm"
	"github.com/havsd/havsd/vrrp"
	"github.com/zclconf/go-cty/cty"
)

// Format writes cfg as HCL that loads back to the same Config. Settings at
// their default are left out. Service-level checks come out per real server
// (the compiled form), which loads to the same Config.
func Format(cfg *Config) []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	formatGlobal(body, cfg.Global)
	formatBGP(body, cfg.BGP)
	formatTrackers(body, cfg.Trackers)
	for _, in := range cfg.Instances {
		body.AppendNewline()
		formatInstance(body.AppendNewBlock("vrrp_instance", []string{in.Name}).Body(), in, cfg.TrackServices, cfg.Trackers)
	}
	for _, g := range cfg.SyncGroups {
		body.AppendNewline()
		gb := body.AppendNewBlock("vrrp_sync_group", []string{g.Name}).Body()
		gb.SetAttributeValue("instances", strList(g.Instances))
		formatNotify(gb, g.Notify)
	}
	formatServices(body, cfg) // svcgroupfmt.go: services, and groups with their members
	return bytes.TrimLeft(f.Bytes(), "\n")
}

func str(s string) cty.Value { return cty.StringVal(s) }

func num(n int64) cty.Value { return cty.NumberIntVal(n) }

func strList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vs := make([]cty.Value, len(ss))
	for i, s := range ss {
		vs[i] = str(s)
	}
	return cty.ListVal(vs)
}

// durString writes a duration the way people do: "300s", "100ms", "1.5s".
func durString(d time.Duration) string {
	switch {
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return d.String()
}

func setDur(b *hclwrite.Body, name string, d, def time.Duration) {
	if d != def {
		b.SetAttributeValue(name, str(durString(d)))
	}
}

func setStr(b *hclwrite.Body, name, s, def string) {
	if s != def {
		b.SetAttributeValue(name, str(s))
	}
}

func setInt(b *hclwrite.Body, name string, n, def int64) {
	if n != def {
		b.SetAttributeValue(name, num(n))
	}
}

func setBool(b *hclwrite.Body, name string, v, def bool) {
	if v != def {
		b.SetAttributeValue(name, cty.BoolVal(v))
	}
}

func setAddr(b *hclwrite.Body, name string, a netip.Addr) {
	if a.IsValid() {
		b.SetAttributeValue(name, str(a.String()))
	}
}

func formatGlobal(body *hclwrite.Body, g Global) {
	def := compileGlobal((&decoder{}).global(nil))
	if g == def {
		return
	}
	b := body.AppendNewBlock("global", nil).Body()
	setStr(b, "router_id", g.RouterID, def.RouterID)
	setStr(b, "control_socket", g.ControlSocket, def.ControlSocket)
	setStr(b, "metrics_listen", g.MetricsListen, def.MetricsListen)
	setStr(b, "log_format", g.LogFormat, def.LogFormat)
	setStr(b, "log_level", g.LogLevel, def.LogLevel)
	setStr(b, "ipvs_mode", g.IPVSMode.String(), def.IPVSMode.String())
	setDur(b, "reconcile_interval", g.ReconcileInterval, def.ReconcileInterval)
	setBool(b, "prune_foreign", g.PruneForeign, def.PruneForeign)
	setStr(b, "notify_fifo", g.NotifyFIFO, "")
	setBool(b, "set_sysctls", g.SetSysctls, def.SetSysctls)
	if g.TimeoutTCP != 0 || g.TimeoutTCPFin != 0 || g.TimeoutUDP != 0 {
		t := b.AppendNewBlock("ipvs_timeouts", nil).Body()
		setDur(t, "tcp", g.TimeoutTCP, 0)
		setDur(t, "tcp_fin", g.TimeoutTCPFin, 0)
		setDur(t, "udp", g.TimeoutUDP, 0)
	}
	formatSync(b, g.Sync)
}

func formatInstance(b *hclwrite.Body, in vrrp.Config, tracks []TrackService, trk Trackers) {
	b.SetAttributeValue("interface", str(in.Interface))
	b.SetAttributeValue("virtual_router_id", num(int64(in.VRID)))
	setInt(b, "priority", int64(in.Priority), DefaultPriority)
	setInt(b, "version", int64(in.Version), DefaultVersion)
	if in.IPv6 {
		b.SetAttributeValue("family", str("ipv6"))
	}
	setDur(b, "advert_interval", in.AdvertInterval, DefaultAdvertInterval)
	setBool(b, "preempt", in.Preempt, true)
	setDur(b, "preempt_delay", in.PreemptDelay, 0)
	setBool(b, "dont_track_primary", in.DontTrackPrimary, false)
	setDur(b, "yield_timeout", in.YieldTimeout, 0)
	setStr(b, "auth_pass", in.AuthPass, "")
	// The leading addresses without a device go in virtual_ipaddress, the
	// rest in vip blocks, so that they load back in the same order.
	n := 0
	for n < len(in.VIPs) && in.VIPs[n].Dev == "" {
		n++
	}
	if n > 0 {
		var plain []string
		for _, v := range in.VIPs[:n] {
			plain = append(plain, v.Prefix.String())
		}
		b.SetAttributeValue("virtual_ipaddress", strList(plain))
	}
	for _, v := range in.VIPs[n:] {
		vb := b.AppendNewBlock("vip", nil).Body()
		vb.SetAttributeValue("address", str(v.Prefix.String()))
		setStr(vb, "dev", v.Dev, "")
	}
	setAddr(b, "unicast_source", in.UnicastSource)
	if len(in.UnicastPeers) > 0 {
		var ps []string
		for _, p := range in.UnicastPeers {
			ps = append(ps, p.String())
		}
		b.SetAttributeValue("unicast_peers", strList(ps))
	}
	for _, t := range in.Track {
		tb := b.AppendNewBlock("track_interface", []string{t.Name}).Body()
		w := trk.interfaceWeight(in.Name, t)
		setInt(tb, "weight", int64(w.Weight), 0)
		setBool(tb, "reverse", w.Reverse, false)
	}
	formatTrackRefs(b, trk.Refs[in.Name])
	for _, t := range tracks {
		if t.Instance == in.Name {
			tb := b.AppendNewBlock("track_service", []string{t.Service}).Body()
			setInt(tb, "weight", int64(t.Weight), -1)
		}
	}
	formatNotify(b, in.Notify)
	g := in.GARP
	if g != (vrrp.GARP{Count: DefaultGARPCount, RepeatDelay: DefaultGARPRepeatDelay, RepeatCount: DefaultGARPRepeatCount}) {
		gb := b.AppendNewBlock("garp", nil).Body()
		setInt(gb, "count", int64(g.Count), DefaultGARPCount)
		setDur(gb, "interval", g.Interval, 0)
		setDur(gb, "repeat_delay", g.RepeatDelay, DefaultGARPRepeatDelay)
		setInt(gb, "repeat_count", int64(g.RepeatCount), DefaultGARPRepeatCount)
		setDur(gb, "refresh", g.Refresh, 0)
	}
}

func formatNotify(b *hclwrite.Body, n vrrp.Notify) {
	if n.Master == nil && n.Backup == nil && n.Fault == nil && n.Stop == nil && n.Generic == nil {
		return
	}
	nb := b.AppendNewBlock("notify", nil).Body()
	for _, c := range []struct {
		name string
		argv []string
	}{{"master", n.Master}, {"backup", n.Backup}, {"fault", n.Fault}, {"stop", n.Stop}, {"generic", n.Generic}} {
		if c.argv != nil {
			nb.SetAttributeValue(c.name, strList(c.argv))
		}
	}
}

// commonForward is the forwarding method all real servers share, or "nat".
func commonForward(reals []RealServer) string {
	if len(reals) == 0 {
		return DefaultForward
	}
	f := reals[0].Forwarding()
	for _, r := range reals[1:] {
		if r.Forwarding() != f {
			return DefaultForward
		}
	}
	return f
}

func formatService(b *hclwrite.Body, vs VirtualService, marks []lvs.MarkRule) {
	s := vs.Service
	k := s.Key
	if k.FWMark != 0 {
		b.SetAttributeValue("fwmark", num(int64(k.FWMark)))
		if k.Family == lvs.IPv6 {
			b.SetAttributeValue("family", str("ipv6"))
		}
	} else {
		setStr(b, "protocol", k.Proto.String(), "tcp")
		b.SetAttributeValue("address", str(netip.AddrPortFrom(k.Addr, k.Port).String()))
	}
	if vs.Announce == AnnounceBGP {
		b.SetAttributeValue("announce", str(AnnounceBGP))
	}
	setStr(b, "scheduler", s.Scheduler, schedulerDefault(vs.Announce))
	if s.Flags != 0 {
		b.SetAttributeValue("sched_flags", strList(strings.Split(ipvsadm.SchedFlagsString(s.Scheduler, s.Flags), ",")))
	}
	setDur(b, "persistence", s.Timeout, 0)
	if s.NetmaskBits != 0 {
		mask := fmt.Sprint(s.NetmaskBits)
		if k.Family == lvs.IPv4 {
			mask = dottedMask(s.NetmaskBits)
		}
		b.SetAttributeValue("persistence_netmask", str(mask))
	}
	setStr(b, "persistence_engine", s.PE, "")
	setBool(b, "ops", s.OnePacket, false)
	setStr(b, "instance", vs.Instance, "")
	setInt(b, "quorum", int64(vs.Quorum), 0)
	setInt(b, "hysteresis", int64(vs.Hysteresis), 0)
	setDur(b, "drain_for", vs.DrainFor, 0)
	fwd := commonForward(vs.Reals)
	setStr(b, "forward", fwd, DefaultForward)
	for _, m := range marks {
		if m.Mark != k.FWMark || k.FWMark == 0 || lvs.FamilyOf(m.Addr) != k.Family {
			continue
		}
		cb := b.AppendNewBlock("classify", nil).Body()
		cb.SetAttributeValue("address", str(m.Addr.String()))
		setStr(cb, "protocol", m.Proto.String(), "tcp")
		if len(m.Ports) > 0 {
			ps := make([]cty.Value, len(m.Ports))
			for i, p := range m.Ports {
				ps[i] = num(int64(p))
			}
			cb.SetAttributeValue("ports", cty.ListVal(ps))
		}
	}
	for _, r := range vs.Reals {
		formatReal(b.AppendNewBlock("real_server", []string{realLabel(k, r.Dest)}).Body(), r, fwd, true)
	}
	if vs.QuorumUp != nil {
		b.SetAttributeValue("quorum_up", strList(vs.QuorumUp))
	}
	if vs.QuorumDown != nil {
		b.SetAttributeValue("quorum_down", strList(vs.QuorumDown))
	}
	setBool(b, "omega", vs.Omega, false)
	if vs.Sorry != nil {
		setBool(b, "sorry_server_inhibit", vs.Sorry.InhibitOnFailure, false)
		formatReal(b.AppendNewBlock("sorry_server", []string{realLabel(k, vs.Sorry.Dest)}).Body(), *vs.Sorry, fwd, false)
	}
}

// realLabel writes a real server's address, with its port unless it is a
// fwmark real server without one.
func realLabel(k lvs.ServiceKey, d lvs.Destination) string {
	if k.FWMark != 0 && d.Port == 0 {
		return d.Addr.String()
	}
	return netip.AddrPortFrom(d.Addr, d.Port).String()
}

func formatReal(b *hclwrite.Body, r RealServer, svcForward string, full bool) {
	d := r.Dest
	if full || d.Weight != DefaultWeight {
		setInt(b, "weight", int64(d.Weight), DefaultWeight)
	}
	setStr(b, "forward", r.Forwarding(), svcForward)
	setAddr(b, "snat_source", r.SNATSource)
	if d.Forward == lvs.Tunnel && d.TunType != lvs.TunIPIP {
		b.SetAttributeValue("tun_type", str(tunName(d.TunType)))
		setInt(b, "tun_port", int64(d.TunPort), 0)
		setStr(b, "tun_flags", tunFlagName(d.TunFlags), "nocsum")
	}
	if full {
		setInt(b, "upper_threshold", int64(d.UpperThreshold), 0)
		setInt(b, "lower_threshold", int64(d.LowerThreshold), 0)
		setBool(b, "inhibit_on_failure", r.InhibitOnFailure, false)
		if r.NotifyUp != nil {
			b.SetAttributeValue("notify_up", strList(r.NotifyUp))
		}
		if r.NotifyDown != nil {
			b.SetAttributeValue("notify_down", strList(r.NotifyDown))
		}
	}
	for _, c := range r.Checks {
		formatCheck(b.AppendNewBlock("check", []string{c.Kind.String()}).Body(), c, d.Addr, d.Port)
	}
	formatTrackRefs(b, r.TrackFiles) // FILE_CHECK (filecheck.go)
}

func formatCheck(b *hclwrite.Body, c checks.Spec, realAddr netip.Addr, realPort uint16) {
	setDur(b, "interval", c.Interval, DefaultCheckInterval)
	setDur(b, "timeout", c.Timeout, DefaultCheckTimeout)
	kind := c.Kind.String()
	setInt(b, "retry", int64(c.Retry-1), int64(defaultRetry(kind)))
	setDur(b, "delay_before_retry", c.DelayBeforeRetry, defaultDelayBeforeRetry(kind, c.Interval))
	setInt(b, "rise", int64(c.Rise), 1)
	setDur(b, "warmup", c.Warmup, 0)
	setBool(b, "alpha", c.Alpha, false)
	if c.Kind == checks.KindSMTP {
		setInt(b, "port", int64(c.Target.Port()), DefaultSMTPPort)
	} else if c.Kind != checks.KindScript && c.Kind != checks.KindPing && c.Target.Port() != realPort {
		b.SetAttributeValue("port", num(int64(c.Target.Port())))
	}
	setAddr(b, "source", c.Source)
	setStr(b, "bind_if", c.BindIf, "")
	if c.Kind != checks.KindScript && c.Target.Addr() != realAddr {
		setAddr(b, "connect_ip", c.Target.Addr())
	}
	if h := c.HTTP; h != nil {
		setStr(b, "path", h.Path, "/")
		setStr(b, "host", h.Host, "")
		if len(h.Status) > 0 {
			var ss []string
			for _, st := range h.Status {
				if st.Lo == st.Hi {
					ss = append(ss, fmt.Sprint(st.Lo))
				} else {
					ss = append(ss, fmt.Sprintf("%d-%d", st.Lo, st.Hi))
				}
			}
			b.SetAttributeValue("status", strList(ss))
		}
		setStr(b, "digest", h.Digest, "")
		setStr(b, "regex", h.Regex, "")
		setStr(b, "tls_server_name", h.TLSServerName, "")
		setBool(b, "tls_verify", h.TLSVerify, false)
		setBool(b, "regex_no_match", h.RegexNoMatch, false)
		setStr(b, "tls_ca", h.TLSCA, "")
		setStr(b, "tls_cert", h.TLSCert, "")
		setStr(b, "tls_key", h.TLSKey, "")
		setInt(b, "max_body", h.MaxBody, 0)
	}
	if s := c.Script; s != nil {
		b.SetAttributeValue("command", strList(s.Argv))
		setBool(b, "misc_dynamic", s.Dynamic, false)
	}
	if u := c.UDP; u != nil {
		setStr(b, "payload", string(u.Payload), "")
		setBool(b, "expect_reply", u.ExpectReply, false)
	}
	if d := c.DNS; d != nil {
		setStr(b, "query_name", d.Name, "")
		setStr(b, "query_type", d.Type, "A")
	}
	if s := c.SMTP; s != nil {
		setStr(b, "helo_name", s.HeloName, "")
	}
}

// dottedMask writes an IPv4 prefix length as a netmask, "255.255.255.0".
func dottedMask(bits int) string {
	var m [4]byte
	for i := 0; i < bits && i < 32; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(m).String()
}
