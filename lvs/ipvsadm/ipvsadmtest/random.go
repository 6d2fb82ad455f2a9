// Package ipvsadmtest generates random IPVS tables for property tests of
// the ipvsadm format and of what builds on it.
package ipvsadmtest

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/havsd/havsd/lvs"
)

// Random returns a random IPVS table that ipvsadm could save and restore:
// unique services and real servers, scheduler flags valid for the scheduler,
// DR and tunnel real servers of non-fwmark services on the service port,
// masq real servers of such services on a non-zero port.
func Random(r *rand.Rand) []lvs.Service {
	scheds := []string{"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "lblc", "lblcr", "fo", "ovf", "mh", "twos"}
	n := r.IntN(6)
	seen := map[lvs.ServiceKey]bool{}
	var out []lvs.Service
	for range n {
		v6 := r.IntN(3) == 0
		addr := func() netip.Addr {
			if v6 {
				return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(r.IntN(256)), 14: byte(r.IntN(3))})
			}
			return netip.AddrFrom4([4]byte{byte(1 + r.IntN(223)), byte(r.IntN(256)), 0, byte(r.IntN(256))})
		}
		fam := lvs.IPv4
		if v6 {
			fam = lvs.IPv6
		}
		var s lvs.Service
		if r.IntN(4) == 0 {
			s.Key = lvs.ServiceKey{Family: fam, Proto: lvs.ProtoNone, FWMark: uint32(1 + r.IntN(1000))}
		} else {
			s.Key = lvs.ServiceKey{Family: fam, Proto: []lvs.Protocol{lvs.TCP, lvs.UDP, lvs.SCTP}[r.IntN(3)], Addr: addr(), Port: uint16(1 + r.IntN(65535))}
		}
		if seen[s.Key] {
			continue
		}
		seen[s.Key] = true
		s.Scheduler = scheds[r.IntN(len(scheds))]
		switch s.Scheduler {
		case "sh", "mh":
			s.Flags = lvs.SchedFlags(r.IntN(4))
		default:
			s.Flags = lvs.SchedFlags(r.IntN(8))
		}
		if r.IntN(2) == 0 {
			s.Timeout = time.Duration(1+r.IntN(86400)) * time.Second
			if v6 {
				s.NetmaskBits = 1 + r.IntN(128)
			} else {
				s.NetmaskBits = 1 + r.IntN(32)
			}
			if r.IntN(4) == 0 {
				s.PE = "sip"
			}
		} else if s.Key.Port == 0 && s.Key.FWMark == 0 {
			s.Key.Port = 1
		}
		dseen := map[lvs.DestKey]bool{}
		for range r.IntN(5) {
			d := lvs.Destination{Addr: addr(), Weight: r.IntN(65536), Forward: []lvs.Forward{lvs.Masq, lvs.Route, lvs.Tunnel}[r.IntN(3)]}
			d.Port = uint16(r.IntN(65536))
			if s.Key.FWMark == 0 && (d.Forward != lvs.Masq || d.Port == 0) {
				d.Port = s.Key.Port
			}
			if r.IntN(3) == 0 {
				d.UpperThreshold, d.LowerThreshold = uint32(r.IntN(1000)), uint32(r.IntN(1000))
			}
			if dseen[d.Key()] {
				continue
			}
			dseen[d.Key()] = true
			s.Destinations = append(s.Destinations, d)
		}
		out = append(out, s)
	}
	return out
}
