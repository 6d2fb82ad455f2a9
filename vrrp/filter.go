package vrrp

import (
	"slices"

	"golang.org/x/net/bpf"
)

// bpfAccept is the filter's verdict for a datagram the instance reads: the
// whole of it.
const bpfAccept = 0xffffffff

// siblingFilter is the classic BPF program attached to an instance's raw
// socket: it discards adverts carrying the VRID of one of the instance's
// siblings (its daemon's other instances on the same link and family,
// which the validator ignores uncounted), so an advert wakes only the
// instance it is for, not every instance on the link. Everything else
// reaches the validator as before, so a stranger's VRID, a wrong version
// or a truncated packet is still dropped there and counted. ipHeader says
// whether the socket hands the filter the IP header first (IPv4 raw
// sockets) or the VRRP payload (IPv6). It returns nil when there is
// nothing to discard.
func siblingFilter(own uint8, siblings []uint8, ipHeader bool) []bpf.Instruction {
	var vrids []uint8
	for _, s := range siblings {
		if s != own && !slices.Contains(vrids, s) {
			vrids = append(vrids, s)
		}
	}
	if len(vrids) == 0 {
		return nil
	}
	// X: offset of the VRRP header (0, or the IPv4 header's length).
	// Shorter than the VRID's offset + 1: accepted, for the validator.
	var prog []bpf.Instruction
	if ipHeader {
		prog = append(prog, bpf.LoadMemShift{Off: 0})
	} else {
		prog = append(prog, bpf.LoadConstant{Dst: bpf.RegX, Val: 0})
	}
	prog = append(prog,
		bpf.LoadExtension{Num: bpf.ExtLen},
		bpf.ALUOpX{Op: bpf.ALUOpSub},
		bpf.JumpIf{Cond: bpf.JumpLessThan, Val: 2, SkipTrue: uint8(len(vrids) + 1)},
		bpf.LoadIndirect{Off: 1, Size: 1}, // the VRID
	)
	for i, v := range vrids {
		// To the discard after the remaining tests and the accept.
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(v), SkipTrue: uint8(len(vrids) - i)})
	}
	return append(prog, bpf.RetConstant{Val: bpfAccept}, bpf.RetConstant{Val: 0})
}
