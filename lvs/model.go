package lvs

import (
	"fmt"
	"net/netip"
	"time"
)

// Protocol is the transport protocol of a virtual service. Its zero value is
// invalid; firewall-mark services carry ProtoNone.
type Protocol uint8

// Protocols a virtual service can balance.
const (
	ProtoInvalid Protocol = iota
	ProtoNone             // firewall-mark services match on the mark, not a protocol
	TCP
	UDP
	SCTP
)

// String returns the lower-case name ipvsadm uses ("tcp", "udp", "sctp").
func (p Protocol) String() string { return enumString(p, protocolNames, "Protocol") }

var protocolNames = map[Protocol]string{ProtoNone: "none", TCP: "tcp", UDP: "udp", SCTP: "sctp"}

// Family is an address family. Its zero value is invalid.
type Family uint8

// Address families.
const (
	FamilyInvalid Family = iota
	IPv4
	IPv6
)

// String returns "inet" or "inet6".
func (f Family) String() string { return enumString(f, familyNames, "Family") }

var familyNames = map[Family]string{IPv4: "inet", IPv6: "inet6"}

// enumString returns v's name in names, or typ(v) for a value without one.
func enumString[T ~uint8](v T, names map[T]string, typ string) string {
	if s, ok := names[v]; ok {
		return s
	}
	return fmt.Sprintf("%s(%d)", typ, uint8(v))
}

// FamilyOf returns the family of a.
func FamilyOf(a netip.Addr) Family {
	switch {
	case a.Is4() || a.Is4In6():
		return IPv4
	case a.Is6():
		return IPv6
	}
	return FamilyInvalid
}

// Forward is a real server's forwarding method as IPVS knows it. Full-NAT is
// Masq plus an SNAT rule on the director and is not a kernel method.
type Forward uint8

// Forwarding methods.
const (
	FwdInvalid Forward = iota
	Masq               // NAT, ipvsadm -m
	Route              // direct routing / gatewaying, ipvsadm -g
	Tunnel             // IP-in-IP, ipvsadm -i
)

// String returns the method name ("masq", "route", "tunnel").
func (f Forward) String() string { return enumString(f, forwardNames, "Forward") }

var forwardNames = map[Forward]string{Masq: "masq", Route: "route", Tunnel: "tunnel"}

// TunType is the encapsulation of a tunnel real server. The values are the
// kernel's (IP_VS_CONN_F_TUNNEL_TYPE_*), where zero is IP-in-IP, the
// default, so that a zero Destination means what it always meant.
type TunType uint8

// Tunnel encapsulations.
const (
	TunIPIP TunType = iota // IP-in-IP (ipvsadm --tun-type ipip), the default
	TunGUE                 // Generic UDP Encapsulation (--tun-type gue)
	TunGRE                 // GRE (--tun-type gre)
)

// String returns the name ipvsadm uses: "ipip", "gue", "gre".
func (t TunType) String() string { return enumString(t, tunTypeNames, "TunType") }

var tunTypeNames = map[TunType]string{TunIPIP: "ipip", TunGUE: "gue", TunGRE: "gre"}

// TunFlags are the checksum options of a GUE or GRE tunnel
// (IP_VS_TUNNEL_ENCAP_FLAG_*); zero is no checksum (ipvsadm --tun-nocsum).
type TunFlags uint16

// Tunnel checksum flags.
const (
	TunCsum    TunFlags = 1 << iota // checksum (--tun-csum)
	TunRemCsum                      // remote checksum offload (--tun-remcsum)
)

// SchedFlags are the scheduler flags of a service (ipvsadm -b).
type SchedFlags uint8

// Scheduler flags. The kernel has three generic flag bits whose meaning
// depends on the scheduler: sh and mh read flag-1 as fallback and flag-2 as
// port.
const (
	FlagFallback SchedFlags = 1 << iota // sh-fallback, mh-fallback (IP_VS_SVC_F_SCHED1)
	FlagPort                            // sh-port, mh-port (IP_VS_SVC_F_SCHED2)
	FlagSched3                          // IP_VS_SVC_F_SCHED3, unused by mainline schedulers
)

// ServiceKey identifies a virtual service: either protocol, address and port,
// or a firewall mark within an address family.
type ServiceKey struct {
	Family Family
	Proto  Protocol   // ProtoNone for firewall-mark services
	Addr   netip.Addr // zero for firewall-mark services
	Port   uint16     // zero for firewall-mark services
	FWMark uint32     // non-zero only for firewall-mark services
}

// String formats the key as ipvsadm does: "tcp 10.0.0.1:80", "fwmark 66".
func (k ServiceKey) String() string {
	if k.FWMark != 0 {
		if k.Family == IPv6 {
			return fmt.Sprintf("fwmark %d inet6", k.FWMark)
		}
		return fmt.Sprintf("fwmark %d", k.FWMark)
	}
	return fmt.Sprintf("%s %s", k.Proto, netip.AddrPortFrom(k.Addr, k.Port))
}

// DestKey identifies a real server within a service.
type DestKey struct {
	Addr netip.Addr
	Port uint16
}

// String formats the key as "addr:port".
func (k DestKey) String() string { return netip.AddrPortFrom(k.Addr, k.Port).String() }

// Stats are counters the kernel keeps for a service or destination. They are
// read, never written, and ignored by Equal.
type Stats struct {
	Conns, PacketsIn, PacketsOut, BytesIn, BytesOut uint64
	CPS, PPSIn, PPSOut, BPSIn, BPSOut               uint64
}

// Service is one IPVS virtual service with its real servers.
type Service struct {
	Key       ServiceKey
	Scheduler string     // kernel scheduler name, e.g. "wlc"
	Flags     SchedFlags // scheduler flags
	// Timeout is the persistence timeout; zero means not persistent.
	Timeout time.Duration
	// NetmaskBits is the persistence granularity as a prefix length
	// (ipvsadm -M); zero means the default of /32 or /128.
	NetmaskBits int
	PE          string // persistence engine, e.g. "sip"; empty for none
	// OnePacket schedules each UDP datagram on its own, without a
	// connection entry (ipvsadm -o, IP_VS_SVC_F_ONEPACKET).
	OnePacket    bool
	Destinations []Destination
	Stats        Stats
}

// Destination is one real server of a service.
type Destination struct {
	Addr    netip.Addr
	Port    uint16
	Weight  int
	Forward Forward
	// UpperThreshold and LowerThreshold are connection limits (ipvsadm -x, -y);
	// zero means unlimited.
	UpperThreshold, LowerThreshold uint32
	// TunType, TunPort and TunFlags are the encapsulation of a Tunnel real
	// server (kernel 5.3+); the zero values are plain IP-in-IP.
	TunType                    TunType
	TunPort                    uint16 // the GUE destination port
	TunFlags                   TunFlags
	ActiveConns, InactiveConns int
	Stats                      Stats
}

// Key returns the destination's key.
func (d Destination) Key() DestKey { return DestKey{Addr: d.Addr, Port: d.Port} }
