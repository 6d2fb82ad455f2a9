package conf

import (
	"github.com/hashicorp/hcl/v2"
)

func (d *decoder) service(hb *hcl.Block) *rawService {
	b := d.open(hb, hb.Body, serviceSchema)
	s := &rawService{b: b, name: hb.Labels[0], protocol: "tcp", port: -1, family: "ipv4",
		scheduler: DefaultScheduler, forward: DefaultForward, tun: rawTun{typ: "ipip", flags: "nocsum"}}
	d.enum(b, "protocol", &s.protocol, protocols)
	var addr string
	d.str(b, "address", &addr)
	if b.has("address") {
		a, port, err := parseAddrPort(addr)
		if err != nil {
			d.errorf(b.at("address"), "Invalid service address", `%q is not an address and port: write "192.0.2.1:80" or "[2001:db8::1]:80".`, addr)
			b.markBad("address")
		} else {
			s.addr, s.port = a, port
		}
	}
	d.integer(b, "fwmark", &s.fwmark)
	d.enum(b, "family", &s.family, families)
	d.enum(b, "scheduler", &s.scheduler, Schedulers)
	d.strs(b, "sched_flags", &s.flags)
	d.dur(b, "persistence", &s.persistence)
	d.netmask(b, &s.netmask)
	d.enum(b, "persistence_engine", &s.engine, engines)
	d.str(b, "instance", &s.instance)
	d.integer(b, "quorum", &s.quorum)
	d.integer(b, "hysteresis", &s.hysteresis)
	d.dur(b, "drain_for", &s.drainFor)
	d.enum(b, "forward", &s.forward, forwards)
	d.boolean(b, "inhibit_on_failure", &s.inhibit)
	d.boolean(b, "sorry_server_inhibit", &s.sorryInhibit)
	d.strs(b, "quorum_up", &s.quorumUp)
	d.strs(b, "quorum_down", &s.quorumDn)
	d.boolean(b, "omega", &s.omega)
	d.boolean(b, "ops", &s.ops)
	d.str(b, "group", &s.group)
	d.announce(b, s)
	d.decodeTun(b, &s.tun)
	for _, sb := range b.blocks {
		switch sb.Type {
		case "check":
			s.checks = append(s.checks, d.checks(sb)...)
		case "real_server":
			s.reals = append(s.reals, d.real(sb, s, realSchema))
		case "sorry_server":
			r := d.real(sb, s, sorrySchema)
			if s.sorry != nil {
				s.sorryDup = append(s.sorryDup, r)
				continue
			}
			s.sorry = r
		case "classify":
			cb := d.open(sb, sb.Body, classifySchema)
			c := &rawClassify{b: cb, protocol: "tcp"}
			d.addr(cb, "address", &c.addr)
			d.enum(cb, "protocol", &c.protocol, protocols)
			d.nums(cb, "ports", &c.ports)
			s.classify = append(s.classify, c)
		}
	}
	return s
}

// netmask reads persistence_netmask as written: a dotted IPv4 mask or a
// prefix length (a number or a string of digits). validate interprets it.
func (d *decoder) netmask(b *block, dst *string) {
	a := b.attr("persistence_netmask")
	if a == nil {
		return
	}
	v, diags := eval(a)
	if !diags.HasErrors() && !v.IsNull() && v.IsWhollyKnown() && v.Type().Equals(ctyNumber) {
		if n, ok := whole(v); ok {
			*dst = itoa(n)
			return
		}
	}
	d.str(b, "persistence_netmask", dst)
}

func (d *decoder) real(hb *hcl.Block, s *rawService, schema *hcl.BodySchema) *rawReal {
	b := d.open(hb, hb.Body, schema)
	r := &rawReal{b: b, weight: DefaultWeight, forward: s.forward, inhibit: s.inhibit, tun: s.tun}
	a, port, err := parseAddrPort(hb.Labels[0])
	if err != nil {
		d.errorf(b.labelAt(), "Invalid real server address", `%q is not an address with an optional port: write "192.0.2.10:80", "192.0.2.10" or "[2001:db8::10]:80".`, hb.Labels[0])
	} else {
		r.addr, r.port, r.addrOK = a, port, true
	}
	d.integer(b, "weight", &r.weight)
	d.enum(b, "forward", &r.forward, forwards)
	d.addr(b, "snat_source", &r.snat)
	d.integer(b, "upper_threshold", &r.upper)
	d.integer(b, "lower_threshold", &r.lower)
	d.boolean(b, "inhibit_on_failure", &r.inhibit)
	d.strs(b, "notify_up", &r.notifyUp)
	d.strs(b, "notify_down", &r.notifyDown)
	d.decodeTun(b, &r.tun)
	for _, cb := range b.blocks {
		if ref, ok := d.trackRef(cb); ok { // track_file: filecheck.go
			r.trackFiles = append(r.trackFiles, ref)
			continue
		}
		r.checks = append(r.checks, d.checks(cb)...)
	}
	return r
}

func (d *decoder) check(hb *hcl.Block) *rawCheck {
	b := d.open(hb, hb.Body, checkSchema)
	kind := d.normalise(b.labelAt(), "check kind", hb.Labels[0], checkKinds)
	return d.checkFrom(b, kind)
}

// checkFrom decodes a check's attributes from b.
func (d *decoder) checkFrom(b *block, kind string) *rawCheck {
	c := &rawCheck{b: b, kind: kind, interval: DefaultCheckInterval, timeout: DefaultCheckTimeout, rise: 1}
	d.dur(b, "interval", &c.interval)
	d.dur(b, "timeout", &c.timeout)
	d.integer(b, "retry", &c.retry)
	d.dur(b, "delay_before_retry", &c.delay)
	d.integer(b, "rise", &c.rise)
	d.dur(b, "warmup", &c.warmup)
	d.boolean(b, "alpha", &c.alpha)
	d.integer(b, "port", &c.port)
	d.addr(b, "source", &c.source)
	d.addr(b, "connect_ip", &c.connectIP)
	d.str(b, "bind_if", &c.bindIf)
	d.str(b, "path", &c.path)
	d.str(b, "host", &c.host)
	d.strs(b, "status", &c.status)
	d.str(b, "digest", &c.digest)
	d.str(b, "regex", &c.regex)
	d.str(b, "tls_server_name", &c.tlsName)
	d.boolean(b, "tls_verify", &c.tlsVerify)
	d.boolean(b, "regex_no_match", &c.regexNoMatch)
	d.str(b, "tls_ca", &c.tlsCA)
	d.str(b, "tls_cert", &c.tlsCert)
	d.str(b, "tls_key", &c.tlsKey)
	d.integer(b, "max_body", &c.maxBody)
	d.strs(b, "command", &c.command)
	d.boolean(b, "misc_dynamic", &c.miscDynamic)
	d.str(b, "payload", &c.payload)
	d.boolean(b, "expect_reply", &c.expectReply)
	d.str(b, "query_name", &c.queryName)
	d.enum(b, "query_type", &c.queryType, queryTypes)
	d.str(b, "helo_name", &c.heloName)
	// keepalived's defaults per check kind (checkdefaults.go).
	if !b.has("retry") {
		c.retry = int64(defaultRetry(kind))
	}
	if !b.has("delay_before_retry") {
		c.delay = defaultDelayBeforeRetry(kind, c.interval)
	}
	return c
}
