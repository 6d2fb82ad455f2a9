package keepalived

import (
	"strconv"
	"strings"

	"github.com/havsd/havsd/lvs"
)

// tunSpec is the encapsulation after lvs_method TUN: keepalived's
// "type {ipip|gue port PORT|gre} [nocsum|csum|remcsum]".
type tunSpec struct {
	set   bool // written after TUN (else the service's applies)
	typ   lvs.TunType
	port  uint16
	flags lvs.TunFlags
}

// tunOptions reads the words after "lvs_method TUN"; words are n.Words[2:].
func (c *converter) tunOptions(n *Node, words []string) (tunSpec, bool) {
	t := tunSpec{set: true}
	bad := func(format string, args ...any) (tunSpec, bool) {
		c.invalid(n, format, args...)
		return tunSpec{}, false
	}
	for i := 0; i < len(words); i++ {
		switch w := strings.ToLower(words[i]); w {
		case "type":
			if i+1 >= len(words) {
				return bad("type needs ipip, gue or gre")
			}
			i++
			switch strings.ToLower(words[i]) {
			case "ipip":
				t.typ = lvs.TunIPIP
			case "gue":
				t.typ = lvs.TunGUE
			case "gre":
				t.typ = lvs.TunGRE
			default:
				return bad("tunnel type %q is not ipip, gue or gre", words[i])
			}
		case "port":
			if i+1 >= len(words) {
				return bad("port needs a number")
			}
			i++
			p, err := strconv.ParseUint(words[i], 10, 16)
			if err != nil || p == 0 {
				return bad("tunnel port %q is not 1-65535", words[i])
			}
			t.port = uint16(p)
		case "nocsum":
			t.flags = 0
		case "csum":
			t.flags = lvs.TunCsum
		case "remcsum":
			t.flags = lvs.TunRemCsum
		default:
			return bad("%q is not a tunnel option (type, port, nocsum, csum, remcsum)", words[i])
		}
	}
	switch {
	case t.typ == lvs.TunGUE && t.port == 0:
		return bad("a GUE tunnel needs a port")
	case t.typ != lvs.TunGUE && t.port != 0:
		return bad("port is for GUE tunnels only")
	case t.typ == lvs.TunIPIP && t.flags != 0:
		return bad("checksum options are for GUE and GRE tunnels only")
	case t.typ == lvs.TunGRE && t.flags == lvs.TunRemCsum:
		return bad("remcsum is for GUE tunnels only")
	}
	return t, true
}

// applyTun sets d's encapsulation: the real server's own, else the service's.
func applyTun(d *lvs.Destination, own, svc tunSpec) {
	if d.Forward != lvs.Tunnel {
		return
	}
	t := svc
	if own.set {
		t = own
	}
	d.TunType, d.TunPort, d.TunFlags = t.typ, t.port, t.flags
}

// opsFlag reads ops. It acts on UDP only: the conversion keeps it on UDP
// services and drops it, with a note, elsewhere.
func (c *converter) opsFlag(n *Node) {
	c.extra(n, 0)
	c.svc.ops = true
	c.svc.opsNode = n
}

// finishOps applies ops to a finished service.
func (c *converter) finishOps(s *service, svc *lvs.Service) {
	if !s.ops {
		return
	}
	if svc.Key.Proto != lvs.UDP {
		c.note(s.opsNode, "one-packet scheduling acts on UDP only (keepalived reports it inactive elsewhere, the kernel ignores it): dropped on %s", svc.Key)
		return
	}
	svc.OnePacket = true
}
