package conf

import (
	"github.com/havsd/havsd/lvs"
)

// One-packet scheduling (ops) and the encapsulation of tunnel real servers
// (tun_type, tun_port, tun_flags): keepalived's "ops" and "lvs_method TUN
// type gue|gre port N nocsum|csum|remcsum".

// tunTypes and tunFlagNames are the values of tun_type and tun_flags.
var (
	tunTypes     = []string{"ipip", "gue", "gre"}
	tunFlagNames = []string{"nocsum", "csum", "remcsum"}
)

// rawTun is the tunnel encapsulation written in a virtual_service (the
// default of its real servers) or in a real_server.
type rawTun struct {
	typ   string // "ipip" when not written
	port  int64
	flags string // "nocsum" when not written
}

// decodeTun reads tun_type, tun_port and tun_flags over the values in t.
func (d *decoder) decodeTun(b *block, t *rawTun) {
	d.enum(b, "tun_type", &t.typ, tunTypes)
	d.integer(b, "tun_port", &t.port)
	d.enum(b, "tun_flags", &t.flags, tunFlagNames)
}

// validateOps refuses one-packet scheduling on a TCP or SCTP service: the
// kernel applies it to UDP packets only, so it would be accepted and
// ignored. A firewall-mark service may take it (for its UDP packets).
func (v *validator) validateOps(s *rawService) {
	if s.ops && s.fwmark == 0 && s.protocol != "udp" {
		v.errorf(s.b.at("ops"), "ops without UDP", "One-packet scheduling (ops) applies to UDP services only; this service's protocol is %q.", s.protocol)
	}
}

// validateTun checks the tunnel settings written in b (a service or a real
// server) against the forwarding method that applies there; t holds the
// effective values.
func (v *validator) validateTun(b *block, forward string, t rawTun) {
	written := b.has("tun_type") || b.has("tun_port") || b.has("tun_flags")
	if !written {
		return
	}
	typeOK := v.oneOf(b, "tun_type", t.typ, tunTypes)
	flagsOK := v.oneOf(b, "tun_flags", t.flags, tunFlagNames)
	if forward != "tun" {
		for _, n := range []string{"tun_type", "tun_port", "tun_flags"} {
			if b.has(n) {
				v.errorf(b.at(n), n+" without tun", "%s sets the encapsulation of tunnel forwarding; here the forwarding is %q, not \"tun\".", n, forward)
			}
		}
		return
	}
	if !typeOK || !flagsOK {
		return
	}
	switch {
	case t.typ == "gue" && (t.port < 1 || t.port > 65535):
		at := b.at("tun_port")
		if !b.has("tun_port") {
			at = b.at("tun_type")
		}
		v.errorf(at, "Invalid tun_port", "A GUE tunnel needs tun_port, the real server's GUE port, 1-65535 (not %d).", t.port)
	case t.typ != "gue" && b.has("tun_port"):
		v.errorf(b.at("tun_port"), "tun_port without GUE", "tun_port is the port of a GUE tunnel; tun_type is %q.", t.typ)
	}
	switch {
	case t.typ == "ipip" && b.has("tun_flags"):
		v.errorf(b.at("tun_flags"), "tun_flags with ipip", "tun_flags are checksum options of GUE and GRE tunnels; IP-in-IP has none.")
	case t.typ == "gre" && t.flags == "remcsum":
		at := b.at("tun_flags")
		if !b.has("tun_flags") {
			at = b.at("tun_type") // the service's remcsum, inherited
		}
		v.errorf(at, "remcsum with GRE", "Remote checksum offload (remcsum) is a GUE option; use csum or nocsum with GRE.")
	}
}

// compileTun sets d's encapsulation from t when d forwards by tunnel.
func compileTun(d *lvs.Destination, t rawTun) {
	if d.Forward != lvs.Tunnel {
		return
	}
	switch t.typ {
	case "gue":
		d.TunType, d.TunPort = lvs.TunGUE, uint16(t.port)
	case "gre":
		d.TunType = lvs.TunGRE
	}
	if d.TunType == lvs.TunIPIP {
		return // IP-in-IP has no checksum options
	}
	switch t.flags {
	case "csum":
		d.TunFlags = lvs.TunCsum
	case "remcsum":
		d.TunFlags = lvs.TunRemCsum
	}
}

// tunName and tunFlagName give the conf spelling of a model value.
func tunName(t lvs.TunType) string { return t.String() }

func tunFlagName(f lvs.TunFlags) string {
	switch {
	case f&lvs.TunRemCsum != 0:
		return "remcsum"
	case f&lvs.TunCsum != 0:
		return "csum"
	}
	return "nocsum"
}
