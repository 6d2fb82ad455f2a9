package conf

import (
	"net/netip"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/havsd/havsd/vrrp"
)

// Defaults, as keepalived and ipvsadm have them.
const (
	DefaultControlSocket     = "/run/havsd/havsd.sock"
	DefaultReconcileInterval = 10 * time.Second
	DefaultPriority          = 100
	DefaultVersion           = 2
	DefaultAdvertInterval    = time.Second
	DefaultScheduler         = "wlc"
	DefaultForward           = "nat"
	DefaultWeight            = 1
	DefaultCheckInterval     = 60 * time.Second // keepalived's delay_loop
	DefaultCheckTimeout      = 5 * time.Second  // keepalived's connect_timeout
	DefaultDelayBeforeRetry  = time.Second
	DefaultGARPCount         = 5
	DefaultGARPRepeatDelay   = 5 * time.Second
	DefaultGARPRepeatCount   = 5
	DefaultSMTPPort          = 25 // the port of an smtp check without one
)

func (d *decoder) file(body hcl.Body) *rawFile {
	top := d.open(nil, body, fileSchema)
	f := &rawFile{}
	for _, hb := range top.blocks {
		switch hb.Type {
		case "global":
			if f.global != nil {
				r := hb.DefRange
				d.errorf(&r, "Duplicate global block", "Only one global block is allowed; the first is at %s.", pos(f.global.b.defAt()))
				continue
			}
			f.global = d.global(hb)
		case "vrrp_instance":
			f.instances = append(f.instances, d.instance(hb))
		case "vrrp_sync_group":
			f.groups = append(f.groups, d.group(hb))
		case "virtual_service":
			f.services = append(f.services, d.service(hb))
		case "virtual_service_group":
			f.svcGroups = append(f.svcGroups, d.svcGroup(hb))
		case "vrrp_script":
			f.scripts = append(f.scripts, d.script(hb))
		case "track_file":
			f.trackFiles = append(f.trackFiles, d.trackFile(hb))
		case "track_process":
			f.trackProcs = append(f.trackProcs, d.trackProcess(hb))
		case "bgp":
			f.bgp = append(f.bgp, d.bgp(hb))
		}
	}
	if f.global == nil {
		f.global = d.global(nil)
	}
	return f
}

func (d *decoder) global(hb *hcl.Block) *rawGlobal {
	g := &rawGlobal{controlSocket: DefaultControlSocket, logFormat: "text", logLevel: "info",
		ipvsMode: "always", reconcile: DefaultReconcileInterval, sysctls: true}
	if hb == nil {
		g.b = &block{bad: map[string]bool{}}
		return g
	}
	b := d.open(hb, hb.Body, globalSchema)
	g.b = b
	d.str(b, "router_id", &g.routerID)
	d.str(b, "control_socket", &g.controlSocket)
	d.str(b, "metrics_listen", &g.metricsListen)
	d.enum(b, "log_format", &g.logFormat, logFormats)
	d.enum(b, "log_level", &g.logLevel, logLevels)
	d.enum(b, "ipvs_mode", &g.ipvsMode, ipvsModes)
	d.dur(b, "reconcile_interval", &g.reconcile)
	d.boolean(b, "prune_foreign", &g.prune)
	d.boolean(b, "set_sysctls", &g.sysctls)
	d.str(b, "script_user", &g.scriptUser)
	d.str(b, "notify_fifo", &g.notifyFIFO)
	for _, tb := range b.blocks {
		if tb.Type == "ipvs_sync" {
			g.syncs = append(g.syncs, d.ipvsSync(tb))
			continue
		}
		if g.timeouts != nil {
			r := tb.DefRange
			d.errorf(&r, "Duplicate ipvs_timeouts block", "Only one ipvs_timeouts block is allowed.")
			continue
		}
		t := d.open(tb, tb.Body, timeoutsSchema)
		g.timeouts = t
		d.dur(t, "tcp", &g.tcp)
		d.dur(t, "tcp_fin", &g.tcpFin)
		d.dur(t, "udp", &g.udp)
	}
	return g
}

func (d *decoder) instance(hb *hcl.Block) *rawInstance {
	b := d.open(hb, hb.Body, instanceSchema)
	in := &rawInstance{b: b, name: hb.Labels[0], priority: DefaultPriority, version: DefaultVersion,
		family: "ipv4", advert: DefaultAdvertInterval, preempt: true}
	in.garp.Count, in.garp.RepeatDelay, in.garp.RepeatCount = DefaultGARPCount, DefaultGARPRepeatDelay, DefaultGARPRepeatCount
	d.str(b, "interface", &in.iface)
	d.integer(b, "virtual_router_id", &in.vrid)
	d.integer(b, "priority", &in.priority)
	d.integer(b, "version", &in.version)
	d.enum(b, "family", &in.family, families)
	d.dur(b, "advert_interval", &in.advert)
	d.boolean(b, "preempt", &in.preempt)
	d.dur(b, "preempt_delay", &in.preemptDelay)
	d.boolean(b, "dont_track_primary", &in.dontTrackPrimary)
	d.dur(b, "yield_timeout", &in.yieldTimeout)
	d.str(b, "auth_pass", &in.authPass)
	var vips []string
	d.strs(b, "virtual_ipaddress", &vips)
	for i, s := range vips {
		in.vips = append(in.vips, d.vip(s, "", elemAt(b, "virtual_ipaddress", i)))
	}
	d.addr(b, "unicast_source", &in.source)
	d.addrs(b, "unicast_peers", &in.peers)
	for _, sb := range b.blocks {
		if r, ok := d.trackRef(sb); ok {
			in.trackRefs = append(in.trackRefs, r)
			continue
		}
		switch sb.Type {
		case "vip":
			vb := d.open(sb, sb.Body, vipSchema)
			var addr, dev string
			d.str(vb, "address", &addr)
			d.str(vb, "dev", &dev)
			if vb.has("address") {
				in.vips = append(in.vips, d.vip(addr, dev, vb.at("address")))
			}
		case "track_interface":
			tb := d.open(sb, sb.Body, trackIfSchema)
			t := rawTrack{b: tb, name: sb.Labels[0]}
			d.integer(tb, "weight", &t.weight)
			d.boolean(tb, "reverse", &t.reverse)
			in.track = append(in.track, t)
		case "track_service":
			tb := d.open(sb, sb.Body, trackSchema)
			t := rawTrack{b: tb, name: sb.Labels[0], weight: -1}
			d.integer(tb, "weight", &t.weight)
			in.trackSvc = append(in.trackSvc, t)
		case "notify":
			if in.notifyBlock != nil {
				d.duplicate(sb, in.notifyBlock)
				continue
			}
			in.notifyBlock = d.notify(sb, &in.notify)
		case "garp":
			if in.garpBlock != nil {
				d.duplicate(sb, in.garpBlock)
				continue
			}
			gb := d.open(sb, sb.Body, garpSchema)
			in.garpBlock = gb
			var count, repeat = int64(in.garp.Count), int64(in.garp.RepeatCount)
			d.integer(gb, "count", &count)
			d.integer(gb, "repeat_count", &repeat)
			in.garp.Count, in.garp.RepeatCount = clampInt(count), clampInt(repeat)
			d.dur(gb, "interval", &in.garp.Interval)
			d.dur(gb, "repeat_delay", &in.garp.RepeatDelay)
			d.dur(gb, "refresh", &in.garp.Refresh)
		}
	}
	return in
}

// clampInt narrows a decoded number to int; validation reports the range.
func clampInt(n int64) int {
	const limit = 1 << 30
	if n > limit {
		return limit
	}
	if n < -limit {
		return -limit
	}
	return int(n)
}

func (d *decoder) duplicate(hb *hcl.Block, first *block) {
	r := hb.DefRange
	d.errorf(&r, "Duplicate "+hb.Type+" block", "Only one %s block is allowed here; the first is at %s.", hb.Type, pos(first.defAt()))
}

func (d *decoder) notify(hb *hcl.Block, n *vrrp.Notify) *block {
	nb := d.open(hb, hb.Body, notifySchema)
	d.strs(nb, "master", &n.Master)
	d.strs(nb, "backup", &n.Backup)
	d.strs(nb, "fault", &n.Fault)
	d.strs(nb, "stop", &n.Stop)
	d.strs(nb, "generic", &n.Generic)
	return nb
}

// vip reads "addr/len" or a bare address (a host prefix).
func (d *decoder) vip(s, dev string, rng *hcl.Range) rawVIP {
	v := rawVIP{dev: dev, rng: rng}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := parseAddr(s)
		if aerr != nil {
			d.errorf(rng, "Invalid virtual address", "%q is neither an address nor an address/prefix-length.", s)
			return v
		}
		p = netip.PrefixFrom(a, a.BitLen())
	} else if p.Addr().Zone() != "" || p.Addr().Is4In6() {
		d.errorf(rng, "Invalid virtual address", "%q: write a plain IPv4 or IPv6 address.", s)
		return v
	}
	v.prefix, v.ok = p, true
	return v
}

func (d *decoder) group(hb *hcl.Block) *rawGroup {
	b := d.open(hb, hb.Body, groupSchema)
	g := &rawGroup{b: b, name: hb.Labels[0]}
	d.strs(b, "instances", &g.instances)
	var seen *block
	for _, sb := range b.blocks {
		if r, ok := d.trackRef(sb); ok {
			g.trackRefs = append(g.trackRefs, r)
			continue
		}
		if seen != nil {
			d.duplicate(sb, seen)
			continue
		}
		seen = d.notify(sb, &g.notify)
		g.notifyBlock = seen
	}
	return g
}
