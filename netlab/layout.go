package netlab

import (
	"fmt"
	"net/netip"
)

// Mode is the forwarding method a Pair layout is wired for.
type Mode int

// Modes of the Pair layout.
const (
	ModeInvalid Mode = iota
	ModeNAT          // real servers on an internal network behind a floating gateway VIP
	ModeDR           // real servers beside the directors, VIP on their loopback
)

func (m Mode) String() string {
	switch m {
	case ModeNAT:
		return "nat"
	case ModeDR:
		return "dr"
	}
	return "invalid"
}

// ParseMode parses "nat" or "dr".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "nat":
		return ModeNAT, nil
	case "dr":
		return ModeDR, nil
	}
	return ModeInvalid, fmt.Errorf("unknown mode %q (want nat or dr)", s)
}

// Addresses of the Pair layout. Each topology lives in its own namespaces,
// so two pairs built with different prefixes reuse them without conflict.
var (
	ExtNet   = netip.MustParsePrefix("10.99.0.0/24")
	IntNet   = netip.MustParsePrefix("10.99.1.0/24")
	ClientIP = netip.MustParseAddr("10.99.0.10")
	VIP      = netip.MustParseAddr("10.99.0.100") // the external (service) VIP
	GwVIP    = netip.MustParseAddr("10.99.1.254") // NAT: the real servers' gateway, floats with VIP
	extDir   = []string{"10.99.0.1", "10.99.0.2"} // directors on ext
	intDir   = []string{"10.99.1.1", "10.99.1.2"} // directors on int (NAT)
	realHost = 11                                 // real server n has host number 10+n
)

// Pair node names.
const (
	Client = "cli"
	D1     = "d1"
	D2     = "d2"
)

// Directors are the node names of the two directors.
var Directors = []string{D1, D2}

// DirectorIP returns the external address of director i (0 or 1).
func DirectorIP(i int) netip.Addr { return netip.MustParseAddr(extDir[i]) }

// RealName returns the node name of real server i (0-based).
func RealName(i int) string { return fmt.Sprintf("rs%d", i+1) }

// RealIP returns the address of real server i (0-based) in a mode.
func RealIP(m Mode, i int) netip.Addr {
	base := ExtNet.Addr().As4()
	if m == ModeNAT {
		base = IntNet.Addr().As4()
	}
	base[3] = byte(realHost + i)
	return netip.AddrFrom4(base)
}

// Pair returns the standard lab layout: a client and two directors on the
// "ext" bridge, and reals real servers, on an "int" bridge behind the
// floating gateway VIP (NAT) or beside the directors with the VIP on lo (DR).
// Directors get eth0 on ext and, in NAT mode, eth1 on int.
func Pair(prefix string, m Mode, reals int) Spec {
	s := Spec{Prefix: prefix, Nets: []string{"ext"}}
	s.Nodes = append(s.Nodes, Node{Name: Client, Links: []Link{{Net: "ext", Dev: "eth0", Addrs: []string{pfx(ClientIP, ExtNet)}}}})
	if m == ModeNAT && reals > 0 {
		s.Nets = append(s.Nets, "int")
	}
	for i, name := range Directors {
		n := Node{Name: name, Links: []Link{{Net: "ext", Dev: "eth0", Addrs: []string{extDir[i] + "/24"}}}}
		if m == ModeNAT && reals > 0 {
			n.Links = append(n.Links, Link{Net: "int", Dev: "eth1", Addrs: []string{intDir[i] + "/24"}})
			n.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"}
		}
		s.Nodes = append(s.Nodes, n)
	}
	for i := 0; i < reals; i++ {
		ip := RealIP(m, i)
		n := Node{Name: RealName(i)}
		if m == ModeNAT {
			n.Links = []Link{{Net: "int", Dev: "eth0", Addrs: []string{pfx(ip, IntNet)}}}
			n.Routes = []Route{{Dst: "default", Via: GwVIP.String()}}
		} else {
			// What `havsd realserver --mode dr` does: the VIP on lo, and
			// never answer or announce it on the wire.
			n.Links = []Link{{Net: "ext", Dev: "eth0", Addrs: []string{pfx(ip, ExtNet)}}}
			n.LoAddrs = []string{VIP.String() + "/32"}
			n.Sysctls = map[string]string{
				"net.ipv4.conf.all.arp_ignore":    "1",
				"net.ipv4.conf.all.arp_announce":  "2",
				"net.ipv4.conf.eth0.arp_ignore":   "1",
				"net.ipv4.conf.eth0.arp_announce": "2",
			}
		}
		s.Nodes = append(s.Nodes, n)
	}
	return s
}

func pfx(a netip.Addr, n netip.Prefix) string {
	return netip.PrefixFrom(a, n.Bits()).String()
}
