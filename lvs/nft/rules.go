package nft

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	"github.com/havsd/havsd/lvs"
)

// Chain names inside our table.
const (
	ChainMark = "mark"
	ChainSNAT = "snat"
)

// ruleSpec is one rule we want: the chain it lives in, its comment (which
// identifies it when read back) and a builder for its expressions.
type ruleSpec struct {
	chain   string
	comment string
	build   func(c *nftables.Conn, t *nftables.Table) ([]expr.Any, error)
}

// specs turns the desired rules into sorted rule specs; invalid rules are
// errors.
func specs(marks []lvs.MarkRule, snat []lvs.SNATRule) ([]ruleSpec, error) {
	var out []ruleSpec
	for _, m := range marks {
		s, err := markSpec(m)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	for _, r := range snat {
		s, err := snatSpec(r)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b ruleSpec) int {
		return cmp.Or(cmp.Compare(a.chain, b.chain), cmp.Compare(a.comment, b.comment))
	})
	out = slices.CompactFunc(out, func(a, b ruleSpec) bool { return a.chain == b.chain && a.comment == b.comment })
	return out, nil
}

func markSpec(m lvs.MarkRule) (ruleSpec, error) {
	if m.Mark == 0 || !m.Addr.IsValid() {
		return ruleSpec{}, fmt.Errorf("mark rule %d for %s: needs a non-zero mark and an address", m.Mark, m.Addr)
	}
	ports := slices.Clone(m.Ports)
	slices.Sort(ports)
	ports = slices.Compact(ports)
	proto, err := l4(m.Proto, len(ports) > 0)
	if err != nil {
		return ruleSpec{}, fmt.Errorf("mark rule %d for %s: %w", m.Mark, m.Addr, err)
	}
	addr := m.Addr.Unmap()
	var ps []string
	for _, p := range ports {
		ps = append(ps, fmt.Sprint(p))
	}
	comment := fmt.Sprintf("havsd mark %d daddr %s", m.Mark, addr)
	if proto != 0 {
		comment += " " + m.Proto.String()
	}
	if len(ps) > 0 {
		comment += " dport " + strings.Join(ps, ",")
	}
	build := func(c *nftables.Conn, t *nftables.Table) ([]expr.Any, error) {
		ex := matchAddr(addr)
		if proto != 0 {
			ex = append(ex, matchL4(proto)...)
		}
		switch len(ports) {
		case 0:
		case 1:
			ex = append(ex, loadDport(), &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(ports[0])})
		default:
			set := &nftables.Set{Table: t, Anonymous: true, Constant: true, KeyType: nftables.TypeInetService}
			var elems []nftables.SetElement
			for _, p := range ports {
				elems = append(elems, nftables.SetElement{Key: binaryutil.BigEndian.PutUint16(p)})
			}
			if err := c.AddSet(set, elems); err != nil {
				return nil, err
			}
			ex = append(ex, loadDport(), &expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID})
		}
		return append(ex,
			&expr.Immediate{Register: 1, Data: binaryutil.NativeEndian.PutUint32(m.Mark)},
			&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1},
		), nil
	}
	return ruleSpec{chain: ChainMark, comment: shorten(comment), build: build}, nil
}

func snatSpec(r lvs.SNATRule) (ruleSpec, error) {
	dst, src := r.Dest.Addr.Unmap(), r.Source.Unmap()
	if !dst.IsValid() || !src.IsValid() || dst.Is4() != src.Is4() {
		return ruleSpec{}, fmt.Errorf("SNAT rule for %s: needs a real server and a source address of the same family (source %s)", r.Dest, r.Source)
	}
	proto, err := l4(r.Proto, r.Dest.Port != 0)
	if err != nil {
		return ruleSpec{}, fmt.Errorf("SNAT rule for %s: %w", r.Dest, err)
	}
	comment := fmt.Sprintf("havsd snat daddr %s", dst)
	if proto != 0 {
		comment += " " + r.Proto.String()
	}
	if r.Dest.Port != 0 {
		comment += fmt.Sprintf(" dport %d", r.Dest.Port)
	}
	comment += " to " + src.String()
	build := func(*nftables.Conn, *nftables.Table) ([]expr.Any, error) {
		ex := matchAddr(dst)
		if proto != 0 {
			ex = append(ex, matchL4(proto)...)
		}
		if r.Dest.Port != 0 {
			ex = append(ex, loadDport(), &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(r.Dest.Port)})
		}
		fam := uint32(unix.NFPROTO_IPV4)
		if src.Is6() {
			fam = unix.NFPROTO_IPV6
		}
		return append(ex,
			&expr.Immediate{Register: 1, Data: src.AsSlice()},
			&expr.NAT{Type: expr.NATTypeSourceNAT, Family: fam, RegAddrMin: 1, RegAddrMax: 1},
		), nil
	}
	return ruleSpec{chain: ChainSNAT, comment: shorten(comment), build: build}, nil
}

// l4 returns the IP protocol number to match; ports need a protocol.
func l4(p lvs.Protocol, ports bool) (byte, error) {
	switch p {
	case lvs.TCP:
		return unix.IPPROTO_TCP, nil
	case lvs.UDP:
		return unix.IPPROTO_UDP, nil
	case lvs.SCTP:
		return unix.IPPROTO_SCTP, nil
	}
	if ports {
		return 0, fmt.Errorf("ports need a protocol (tcp, udp or sctp), not %s", p)
	}
	return 0, nil
}

// matchAddr matches the network protocol and the destination address in an
// inet-family chain.
func matchAddr(a netip.Addr) []expr.Any {
	proto, off, n := byte(unix.NFPROTO_IPV4), uint32(16), uint32(4)
	if !a.Is4() {
		proto, off, n = unix.NFPROTO_IPV6, 24, 16
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a.AsSlice()},
	}
}

func matchL4(proto byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

func loadDport() expr.Any {
	return &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2}
}

// shorten keeps comments under the kernel's user-data limit.
func shorten(s string) string {
	if len(s) <= 120 {
		return s
	}
	h := sha256.Sum256([]byte(s))
	return s[:100] + "… " + hex.EncodeToString(h[:6])
}

func comment(s string) []byte { return userdata.AppendString(nil, userdata.TypeComment, s) }

func commentOf(r *nftables.Rule) string {
	s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
	return s
}
