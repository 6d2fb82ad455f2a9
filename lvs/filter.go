package lvs

import "net/netip"

// MarkRule is a packet-filter rule havsd owns that sets a firewall mark on
// traffic to a virtual address and a set of ports, so that one fwmark service
// balances them together (tutorial section 4.3).
type MarkRule struct {
	Mark  uint32
	Addr  netip.Addr // destination virtual address
	Proto Protocol   // TCP, UDP or SCTP
	Ports []uint16   // destination ports; empty means every port
}

// SNATRule is the source NAT that turns a masq real server into full-NAT:
// traffic the director forwards to Dest leaves with source address Source.
type SNATRule struct {
	Dest   DestKey
	Proto  Protocol
	Source netip.Addr
}
