package netlab

import (
	"fmt"
	"net/netip"
)

// The ECMP layout: a router between a client network and a core network on
// which several directors announce one VIP over BGP, with real servers
// beside them (prepared for direct routing) for their health checks and,
// where the kernel has IPVS, for the traffic itself.
//
//	client (many source addresses) ── edge ── router (BIRD 2, ECMP) ── core ── d1, d2, d3, rs1..rsN
var (
	ECMPCoreNet  = netip.MustParsePrefix("10.97.0.0/24")
	ECMPEdgeNet  = netip.MustParsePrefix("10.97.1.0/24")
	ECMPRouterIP = netip.MustParseAddr("10.97.0.1")    // on core: the directors' BGP neighbour and gateway
	ECMPRouterGW = netip.MustParseAddr("10.97.1.1")    // on edge: the client's gateway
	ECMPClientIP = netip.MustParseAddr("10.97.1.10")   // the client's primary address
	ECMPVIP      = netip.MustParseAddr("10.97.100.10") // announced by the directors, on no link
)

// ECMP node names.
const (
	ECMPRouter = "rtr"
	ECMPClient = "cli"
)

// ECMPRouterASN and ECMPDirectorASN are the lab's autonomous systems: the
// router's and the one all directors share (one AS, so that the router sees
// equal paths and merges them).
const (
	ECMPRouterASN   = 65000
	ECMPDirectorASN = 65001
)

// ecmpSrcBase is the host number of the client's first extra source address.
const ecmpSrcBase = 100

// ECMPDirectorName returns the node name of director i (0-based).
func ECMPDirectorName(i int) string { return fmt.Sprintf("d%d", i+1) }

// ECMPDirectorIP returns the core address of director i (0-based).
func ECMPDirectorIP(i int) netip.Addr { return hostIn(ECMPCoreNet, 11+i) }

// ECMPRealIP returns the core address of real server i (0-based).
func ECMPRealIP(i int) netip.Addr { return hostIn(ECMPCoreNet, 21+i) }

// ECMPSource returns the client's extra source address i (0-based).
func ECMPSource(i int) netip.Addr { return hostIn(ECMPEdgeNet, ecmpSrcBase+i) }

func hostIn(n netip.Prefix, host int) netip.Addr {
	b := n.Addr().As4()
	b[3] = byte(host)
	return netip.AddrFrom4(b)
}

// ECMPOptions shape the ECMP layout.
type ECMPOptions struct {
	Directors int // 1 to 9
	Reals     int // 0 to 20
	Sources   int // extra client source addresses, 0 to 120
	// VIPOnDirectors puts the VIP on the directors' lo (with ARP
	// suppressed) in the topology itself, for a director that does not.
	VIPOnDirectors bool
	// HeaderHash makes the router hash each packet's own addresses,
	// protocol and ports (fib_multipath_hash_policy=3 with
	// fib_multipath_hash_fields=0x0037, Linux 5.12 or later), as a
	// hardware router does, so that a flow keeps its next hop for as long
	// as the route does not change. Under policy 1, the default, the
	// kernel takes the hash a packet already carries, and a TCP packet
	// sent from another namespace over a veth carries its socket's
	// transmit hash, which TCP draws anew on every retransmission timeout
	// (of a SYN too): a connection can then reach a second director
	// mid-stream, or leave an IPVS entry on one director with its first
	// SYN and be established through another.
	HeaderHash bool
}

// Validate checks the sizes.
func (o ECMPOptions) Validate() error {
	switch {
	case o.Directors < 1 || o.Directors > 9:
		return fmt.Errorf("ecmp lab: %d directors (want 1 to 9)", o.Directors)
	case o.Reals < 0 || o.Reals > 20:
		return fmt.Errorf("ecmp lab: %d real servers (want 0 to 20)", o.Reals)
	case o.Sources < 0 || o.Sources > 120:
		return fmt.Errorf("ecmp lab: %d client source addresses (want 0 to 120)", o.Sources)
	}
	return nil
}

// arpHidden are the sysctls of a node whose VIP sits on lo: it never
// answers or announces the VIP on eth0 (what `havsd realserver --mode dr`
// does).
func arpHidden() map[string]string {
	return map[string]string{
		"net.ipv4.conf.all.arp_ignore":    "1",
		"net.ipv4.conf.all.arp_announce":  "2",
		"net.ipv4.conf.eth0.arp_ignore":   "1",
		"net.ipv4.conf.eth0.arp_announce": "2",
	}
}

// ECMP returns the ECMP layout. The router forwards between "edge" and
// "core" and hashes flows over its multipath routes at L4
// (fib_multipath_hash_policy=1, or the five-tuple of each packet with
// HeaderHash); it learns the VIP from the directors over BGP (StartBird).
// The directors and real servers route everything else through the
// router.
func ECMP(prefix string, o ECMPOptions) Spec {
	s := Spec{Prefix: prefix, Nets: []string{"edge", "core"}}
	cli := Node{Name: ECMPClient, Routes: []Route{{Dst: "default", Via: ECMPRouterGW.String()}}}
	addrs := []string{pfx(ECMPClientIP, ECMPEdgeNet)}
	for i := 0; i < o.Sources; i++ {
		addrs = append(addrs, pfx(ECMPSource(i), ECMPEdgeNet))
	}
	cli.Links = []Link{{Net: "edge", Dev: "eth0", Addrs: addrs}}
	s.Nodes = append(s.Nodes, cli)
	rtr := Node{
		Name: ECMPRouter,
		Links: []Link{
			{Net: "core", Dev: "eth0", Addrs: []string{pfx(ECMPRouterIP, ECMPCoreNet)}},
			{Net: "edge", Dev: "eth1", Addrs: []string{pfx(ECMPRouterGW, ECMPEdgeNet)}},
		},
		Sysctls: map[string]string{
			"net.ipv4.ip_forward":                "1",
			"net.ipv4.fib_multipath_hash_policy": "1", // L4: flows of one client spread too
			"net.ipv4.conf.all.rp_filter":        "0",
			"net.ipv4.conf.default.rp_filter":    "0",
		},
	}
	if o.HeaderHash {
		// Custom policy over source and destination address, protocol,
		// source and destination port.
		rtr.Sysctls["net.ipv4.fib_multipath_hash_policy"] = "3"
		rtr.Sysctls["net.ipv4.fib_multipath_hash_fields"] = "0x0037"
	}
	s.Nodes = append(s.Nodes, rtr)
	for i := 0; i < o.Directors; i++ {
		n := Node{
			Name:   ECMPDirectorName(i),
			Links:  []Link{{Net: "core", Dev: "eth0", Addrs: []string{pfx(ECMPDirectorIP(i), ECMPCoreNet)}}},
			Routes: []Route{{Dst: "default", Via: ECMPRouterIP.String()}},
		}
		if o.VIPOnDirectors {
			n.LoAddrs = []string{ECMPVIP.String() + "/32"}
			n.Sysctls = arpHidden()
		}
		s.Nodes = append(s.Nodes, n)
	}
	for i := 0; i < o.Reals; i++ {
		s.Nodes = append(s.Nodes, Node{
			Name:    RealName(i),
			Links:   []Link{{Net: "core", Dev: "eth0", Addrs: []string{pfx(ECMPRealIP(i), ECMPCoreNet)}}},
			LoAddrs: []string{ECMPVIP.String() + "/32"},
			Routes:  []Route{{Dst: "default", Via: ECMPRouterIP.String()}},
			Sysctls: arpHidden(),
		})
	}
	return s
}
