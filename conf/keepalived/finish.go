package keepalived

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/track"
	"github.com/havsd/havsd/vrrp"
)

// Keepalived's defaults where they are not havsd's.
const (
	kaDelayLoop     = 60 * time.Second
	kaConnTimeout   = 5 * time.Second
	kaGARPDelay     = 5 * time.Second
	kaGARPRepeat    = 5
	kaHTTPRetryWait = 3 * time.Second

	defaultScriptInterval = conf.DefaultScriptInterval
)

// templates are havsd's own defaults, taken from conf by loading minimal
// blocks, so that settings conf adds later keep their defaults here too.
type templates struct {
	global   conf.Global
	instance vrrp.Config
	service  conf.VirtualService
	real     conf.RealServer
	checks   map[string]conf.RealServer
}

var defaults = sync.OnceValues(func() (templates, error) {
	src := `
vrrp_instance "i" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1/24"]
}
virtual_service "s" {
  address = "10.0.0.1:80"
  real_server "10.0.0.2:80" {}
}
`
	for i, k := range []string{"tcp", "http", "https", "udp", "dns", "ping", "script", "smtp"} {
		attrs := map[string]string{"dns": `query_name = "."`, "script": `command = ["x"]`}[k]
		src += fmt.Sprintf("virtual_service %q {\n  address = \"10.0.0.1:%d\"\n  real_server \"10.0.0.2:80\" {\n    check %q {\n      %s\n    }\n  }\n}\n", k, 81+i, k, attrs)
	}
	cfg, _, diags := conf.LoadBytes("defaults.hcl", []byte(src))
	if cfg == nil {
		var errs []string
		for _, d := range diags {
			errs = append(errs, d.Error())
		}
		return templates{}, fmt.Errorf("havsd rejects its own minimal configuration: %s", strings.Join(errs, "; "))
	}
	t := templates{global: cfg.Global, instance: cfg.Instances[0], service: cfg.Services[0],
		real: cfg.Services[0].Reals[0], checks: map[string]conf.RealServer{}}
	for _, s := range cfg.Services[1:] {
		t.checks[s.Name] = s.Reals[0]
	}
	return t, nil
})

func (c *converter) finish(res *Result) {
	t, err := defaults()
	if err != nil {
		c.diags = append(c.diags, Diagnostic{Pos: Pos{File: res.Source}, Severity: Error, Message: err.Error()})
		return
	}
	cfg := res.Config
	cfg.Global, res.global = t.global, t.global
	g := c.global
	if g.node != nil && (g.routerID != "" || g.prune || g.tcp+g.tcpFin+g.udp != 0 || g.fifo != "" || g.sync != nil) {
		cfg.Global.RouterID, cfg.Global.NotifyFIFO = g.routerID, g.fifo
		cfg.Global.PruneForeign = cfg.Global.PruneForeign || g.prune
		cfg.Global.TimeoutTCP, cfg.Global.TimeoutTCPFin, cfg.Global.TimeoutUDP = g.tcp, g.tcpFin, g.udp
		res.Origins["global"] = g.node.Pos
	}
	names := map[string]bool{}
	for _, in := range c.instances {
		if vc, ok := c.finishInstance(in, t.instance); ok {
			cfg.Instances = append(cfg.Instances, vc)
			names[vc.Name] = true
			res.Origins["vrrp_instance/"+vc.Name] = in.node.Pos
			if len(in.ifWeights) > 0 {
				if cfg.Trackers.Interfaces == nil {
					cfg.Trackers.Interfaces = map[string][]conf.InterfaceWeight{}
				}
				cfg.Trackers.Interfaces[vc.Name] = in.ifWeights
			}
		}
	}
	c.finishTrackers(cfg, names)
	c.finishSync(cfg)
	for _, t := range c.trackers {
		res.Origins[map[track.Kind]string{track.KindScript: "vrrp_script", track.KindFile: "track_file", track.KindProcess: "track_process"}[t.key.Kind]+"/"+t.key.Name] = t.node.Pos
	}
	for _, gr := range c.groups {
		var members []string
		for _, m := range gr.cfg.Instances {
			if names[m] {
				members = append(members, m)
			} else {
				c.left(gr.node, fmt.Sprintf("lists vrrp_instance %q, which was not converted", m), "")
			}
		}
		if len(members) == 0 {
			continue
		}
		gr.cfg.Instances = members
		cfg.SyncGroups = append(cfg.SyncGroups, gr.cfg)
		res.Origins["vrrp_sync_group/"+gr.cfg.Name] = gr.node.Pos
	}
	labels := map[string]int{}
	var services []*service
	for _, s := range c.services {
		if s.group != "" {
			name := s.group
			if labels[name]++; labels[name] > 1 {
				name = fmt.Sprintf("%s-%d", name, labels[name])
			}
			services = append(services, c.expandGroup(s, name)...)
		} else {
			services = append(services, s)
		}
	}
	owner := map[netip.Addr]string{} // VIP -> the instance holding it
	for _, in := range cfg.Instances {
		for _, v := range in.VIPs {
			if _, dup := owner[v.Prefix.Addr()]; !dup {
				owner[v.Prefix.Addr()] = in.Name
			}
		}
	}
	for _, s := range services {
		vs, ok := c.finishService(s, t, labels)
		if !ok {
			continue
		}
		if vs.Service.Key.FWMark == 0 {
			vs.Instance = owner[vs.Service.Key.Addr] // havsd's link between a service and its VIP
		}
		cfg.Services = append(cfg.Services, vs)
		res.Origins["virtual_service/"+vs.Name] = s.node.Pos
		if s.fromGroup {
			res.Origins["virtual_service/"+s.groupSvc] = s.node.Pos
			res.Origins["virtual_service_group/"+s.groupName] = c.vsgNodes[s.groupName].Pos
			for _, r := range s.reals { // with and without a port, as Format writes it
				res.Origins[fmt.Sprintf("virtual_service/%s/real_server/%s", s.groupSvc, r.addr)] = r.node.Pos
				res.Origins[fmt.Sprintf("virtual_service/%s/real_server/%s", s.groupSvc, realKey(s, r))] = r.node.Pos
			}
		}
		for _, r := range s.reals {
			res.Origins[fmt.Sprintf("virtual_service/%s/real_server/%s", vs.Name, realKey(s, r))] = r.node.Pos
		}
		if s.sorry != nil {
			res.Origins[fmt.Sprintf("virtual_service/%s/sorry_server/%s", vs.Name, realKey(s, s.sorry))] = s.sorry.node.Pos
		}
	}
	c.finishGroups(cfg) // group.go
	c.applySSL(cfg)
}

// applySSL gives every https check the SSL block's client certificate.
func (c *converter) applySSL(cfg *conf.Config) {
	var https []*checks.HTTPSpec
	for i := range cfg.Services {
		vs := &cfg.Services[i]
		reals := vs.Reals
		if vs.Sorry != nil {
			reals = append(slices.Clone(reals), *vs.Sorry)
		}
		for _, r := range reals {
			for _, k := range r.Checks {
				if k.Kind == checks.KindHTTPS && k.HTTP != nil {
					https = append(https, k.HTTP)
				}
			}
		}
	}
	cert, key := c.finishSSL(len(https) > 0)
	for _, h := range https {
		h.TLSCert, h.TLSKey = cert, key
	}
}

// finishInstance applies keepalived's defaults and rules to an instance.
func (c *converter) finishInstance(in *instance, tmpl vrrp.Config) (vrrp.Config, bool) {
	vc := tmpl
	vc.Name = in.cfg.Name
	vc.Interface, vc.VRID, vc.VIPs = in.cfg.Interface, in.cfg.VRID, in.cfg.VIPs
	vc.UnicastSource, vc.UnicastPeers, vc.AuthPass = in.cfg.UnicastSource, in.cfg.UnicastPeers, in.cfg.AuthPass
	vc.Track, vc.Notify, vc.PreemptDelay = in.cfg.Track, in.cfg.Notify, in.cfg.PreemptDelay
	vc.DontTrackPrimary = in.cfg.DontTrackPrimary
	n := in.node
	if vc.Interface == "" {
		c.left(n, "the instance has no interface (keepalived then uses the default interface or unicast routing)", "interface is required; the instance is left out")
		return vc, false
	}
	if vc.VRID == 0 {
		c.left(n, "the instance has no virtual_router_id, so keepalived does not run it", "the instance is left out")
		return vc, false
	}
	// No priority: 255 with state MASTER, else 100. No state: MASTER at 255.
	prio := in.priority.or(100)
	if !in.priority.set && in.master {
		prio = 255
		c.note(in.state, "with state MASTER and no priority keepalived uses priority 255 (address owner); so does the conversion")
	}
	master := in.master || (in.state == nil && prio == 255)
	vc.Priority = uint8(prio)
	if len(vc.VIPs) > 0 && vc.VIPs[0].Prefix.Addr().Is6() {
		vc.IPv6 = true
	}
	vc.Version = in.version.or(c.global.version.or(2))
	if vc.IPv6 && vc.Version != 3 {
		vc.Version = 3
		if in.version.set {
			c.note(n, "IPv6 instances always run VRRPv3 in keepalived; version 3")
		}
	}
	if vc.Version == 3 && vc.AuthPass != "" {
		c.left(n, "authentication with VRRPv3, which keepalived ignores", "none: VRRPv3 has no authentication")
		vc.AuthPass = ""
	}
	c.preemption(in, &vc, master)
	c.advert(in, &vc)
	if in.state != nil && master && prio != 255 {
		c.note(in.state, "keepalived starts as master at once; havsd starts as backup and takes over after the master-down interval unless a higher priority answers: the same router is elected")
	}
	vc.GARP = garp(in.garp, c.global.garp, tmpl.GARP)
	return vc, true
}

// preemption applies keepalived's rules: nopreempt and preempt_delay are
// cleared with state MASTER; nopreempt is cleared at priority 255;
// preempt_delay is cleared with nopreempt.
func (c *converter) preemption(in *instance, vc *vrrp.Config, master bool) {
	if np := in.nopreempt; np != nil {
		switch {
		case vc.Priority == 255:
			c.note(np, "keepalived clears nopreempt at priority 255; preempt stays on")
		case master:
			c.note(np, "keepalived clears nopreempt with state MASTER (it needs state BACKUP); preempt stays on")
		default:
			vc.Preempt = false
		}
	}
	if pd := in.preemptDelay; pd != nil {
		switch {
		case master:
			c.note(pd, "keepalived clears preempt_delay with state MASTER; left out")
			vc.PreemptDelay = 0
		case !vc.Preempt:
			c.note(pd, "keepalived clears preempt_delay with nopreempt; left out")
			vc.PreemptDelay = 0
		}
	}
}

// advert rounds advert_int as the protocol version allows: whole seconds
// for v2, centiseconds for v3.
func (c *converter) advert(in *instance, vc *vrrp.Config) {
	a := in.advert.or(time.Second)
	unit := time.Second
	if vc.Version == 3 {
		unit = 10 * time.Millisecond
	}
	r := max(a.Round(unit), unit)
	if vc.Version == 3 {
		r = min(r, 40950*time.Millisecond)
	} else {
		r = min(r, 255*time.Second)
	}
	if r != a {
		c.note(in.advertNode, "VRRPv%d advertises in steps of %s; advert_interval %s", vc.Version, unit, r)
	}
	vc.AdvertInterval = r
}

// garp resolves keepalived's gratuitous ARP settings: the instance's, else
// the global ones, else keepalived's defaults (5, then 5 more after 5s).
func garp(in, global garpSettings, tmpl vrrp.GARP) vrrp.GARP {
	pick := func(a, b opt[time.Duration], def time.Duration) time.Duration {
		if a.set {
			return a.v
		}
		return b.or(def)
	}
	g := tmpl
	g.Count = kaGARPRepeat
	if in.repeat.set {
		g.Count = in.repeat.v
	} else if global.repeat.set {
		g.Count = global.repeat.v
	}
	g.RepeatCount = g.Count
	g.RepeatDelay = pick(in.delay, global.delay, kaGARPDelay)
	g.Refresh = pick(in.refresh, global.refresh, 0)
	g.Interval = pick(in.interval, global.interval, 0)
	if in.min.or(global.min.or(false)) {
		g.Count, g.RepeatDelay, g.RepeatCount = 1, 0, 1
	}
	if g.RepeatDelay == 0 {
		g.RepeatCount = tmpl.RepeatCount
	}
	return g
}

func (c *converter) lvsTimeouts(n *Node) {
	args := n.Args()
	for i := 0; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.invalid(n, "%s without a value", args[i])
			return
		}
		d, ok := seconds(args[i+1])
		if !ok {
			c.invalid(n, "%q is not a number of seconds", args[i+1])
			return
		}
		switch args[i] {
		case "tcp":
			c.global.tcp = d
		case "tcpfin":
			c.global.tcpFin = d
		case "udp":
			c.global.udp = d
		default:
			c.invalid(n, "%q is not tcp, tcpfin or udp", args[i])
			return
		}
	}
}

func sortDiags(ds Diagnostics) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
}

// label names a virtual service after its key: "tcp-10.0.0.1-80", "fwmark-1".
func label(s *service) string {
	if s.fwmark != 0 {
		return fmt.Sprintf("fwmark-%d", s.fwmark)
	}
	return fmt.Sprintf("%s-%s-%d", s.protocol, strings.ReplaceAll(s.addr.String(), ":", "."), s.port)
}
