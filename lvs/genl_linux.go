package lvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"syscall"
	"time"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// This file reads the service list with a genetlink dump of our own, because
// moby/ipvs v1.1.0 drops the persistence-engine name (IPVS_SVC_ATTR_PE_NAME)
// and the 64-bit counters when it parses a service. Writes and destination
// dumps still go through moby/ipvs.

// IPVS generic-netlink constants from include/uapi/linux/ip_vs.h.
const (
	ipvsCmdGetService = 4
	ipvsCmdAttrSvc    = 1

	svcAttrAF        = 1
	svcAttrProtocol  = 2
	svcAttrAddr      = 3
	svcAttrPort      = 4
	svcAttrFWMark    = 5
	svcAttrSchedName = 6
	svcAttrFlags     = 7
	svcAttrTimeout   = 8
	svcAttrNetmask   = 9
	svcAttrStats     = 10
	svcAttrPEName    = 11
	svcAttrStats64   = 12

	svcFlagPersistent = 0x0001
	svcFlagSchedShift = 3 // IP_VS_SVC_F_SCHED1 is 0x0008

	nlaTypeMask = 0x3fff // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

type genlHdr struct{ cmd, version uint8 }

func (h genlHdr) Serialize() []byte { return []byte{h.cmd, h.version, 0, 0} }
func (h genlHdr) Len() int          { return 4 }

// dumpServices lists every service with one genetlink dump on sock.
func dumpServices(sock *nl.NetlinkSocket, family uint16) ([]Service, error) {
	req := nl.NewNetlinkRequest(int(family), unix.NLM_F_DUMP)
	req.AddData(genlHdr{cmd: ipvsCmdGetService, version: 1})
	msgs, err := execGenl(sock, req)
	if err != nil {
		return nil, err
	}
	out := make([]Service, 0, len(msgs))
	for _, m := range msgs {
		s, err := parseServiceMsg(m)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// getService reads one service's attributes; ok is false when the kernel
// has no such service.
func getService(sock *nl.NetlinkSocket, family uint16, k ServiceKey) (Service, bool, error) {
	req := nl.NewNetlinkRequest(int(family), 0)
	req.AddData(genlHdr{cmd: ipvsCmdGetService, version: 1})
	attr := nl.NewRtAttr(ipvsCmdAttrSvc, nil)
	attr.AddRtAttr(svcAttrAF, nl.Uint16Attr(afOf(k.Family)))
	if k.FWMark != 0 {
		attr.AddRtAttr(svcAttrFWMark, nl.Uint32Attr(k.FWMark))
	} else {
		attr.AddRtAttr(svcAttrProtocol, nl.Uint16Attr(ipProto(k.Proto)))
		attr.AddRtAttr(svcAttrAddr, k.Addr.Unmap().AsSlice())
		attr.AddRtAttr(svcAttrPort, nl.BEUint16Attr(k.Port))
	}
	req.AddData(attr)
	msgs, err := execGenl(sock, req)
	if errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.ENOENT) {
		return Service{}, false, nil
	}
	if err != nil {
		return Service{}, false, err
	}
	if len(msgs) != 1 {
		return Service{}, false, fmt.Errorf("IPVS answered %d messages for one service", len(msgs))
	}
	s, err := parseServiceMsg(msgs[0])
	return s, err == nil, err
}

// execGenl sends req and collects the payloads of its answer: every part of
// a multi-part answer up to NLMSG_DONE, or the single reply.
func execGenl(sock *nl.NetlinkSocket, req *nl.NetlinkRequest) ([][]byte, error) {
	if err := sock.Send(req); err != nil {
		return nil, err
	}
	var out [][]byte
	for {
		msgs, _, err := sock.Receive()
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Seq != req.Seq {
				continue
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if code := int32(binary.NativeEndian.Uint32(m.Data[:4])); code != 0 {
					return nil, syscall.Errno(-code)
				}
				return out, nil
			}
			out = append(out, m.Data)
			if m.Header.Flags&unix.NLM_F_MULTI == 0 {
				return out, nil
			}
		}
	}
}

func parseServiceMsg(b []byte) (Service, error) {
	if len(b) < 4 {
		return Service{}, fmt.Errorf("short IPVS service message")
	}
	top, err := nl.ParseRouteAttr(b[4:])
	if err != nil {
		return Service{}, err
	}
	for _, a := range top {
		if a.Attr.Type&nlaTypeMask == ipvsCmdAttrSvc {
			return parseServiceAttrs(a.Value)
		}
	}
	return Service{}, fmt.Errorf("IPVS service message without a service")
}

func parseServiceAttrs(b []byte) (Service, error) {
	attrs, err := nl.ParseRouteAttr(b)
	if err != nil {
		return Service{}, err
	}
	var s Service
	var addr, mask []byte
	var flags uint32
	var stats32, stats64 []byte
	ne := binary.NativeEndian
	for _, a := range attrs {
		v := a.Value
		switch a.Attr.Type & nlaTypeMask {
		case svcAttrAF:
			s.Key.Family = familyFromAF(ne.Uint16(v))
		case svcAttrProtocol:
			s.Key.Proto = protoFromIP(ne.Uint16(v))
		case svcAttrAddr:
			addr = v
		case svcAttrPort:
			s.Key.Port = binary.BigEndian.Uint16(v)
		case svcAttrFWMark:
			s.Key.FWMark = ne.Uint32(v)
		case svcAttrSchedName:
			s.Scheduler = nl.BytesToString(v)
		case svcAttrFlags:
			flags = ne.Uint32(v[:4])
		case svcAttrTimeout:
			s.Timeout = time.Duration(ne.Uint32(v)) * time.Second
		case svcAttrNetmask:
			mask = v
		case svcAttrStats:
			stats32 = v
		case svcAttrStats64:
			stats64 = v
		case svcAttrPEName:
			s.PE = nl.BytesToString(v)
		}
	}
	if s.Key.FWMark != 0 {
		s.Key.Proto = ProtoNone
	} else if s.Key.Addr, err = addrFrom(addr, s.Key.Family); err != nil {
		return Service{}, err
	}
	s.Flags = SchedFlags(flags>>svcFlagSchedShift) & (FlagFallback | FlagPort | FlagSched3)
	if flags&svcFlagPersistent == 0 {
		s.Timeout = 0
	}
	s.NetmaskBits = netmaskBits(mask, s.Key.Family)
	if stats64 != nil {
		s.Stats, err = parseStats(stats64, true)
	} else if stats32 != nil {
		s.Stats, err = parseStats(stats32, false)
	}
	return s, err
}

// netmaskBits decodes the persistence netmask: an IPv4 mask in network byte
// order, or an IPv6 prefix length. Full length reads as zero, the default.
func netmaskBits(v []byte, f Family) int {
	if len(v) < 4 {
		return 0
	}
	n := 0
	if f == IPv6 {
		n = int(binary.NativeEndian.Uint32(v))
	} else {
		n = bits.OnesCount32(binary.BigEndian.Uint32(v))
	}
	if (f == IPv6 && n >= 128) || (f != IPv6 && n >= 32) {
		return 0
	}
	return n
}

func parseStats(b []byte, wide bool) (Stats, error) {
	attrs, err := nl.ParseRouteAttr(b)
	if err != nil {
		return Stats{}, err
	}
	var st Stats
	fields := [...]*uint64{nil, &st.Conns, &st.PacketsIn, &st.PacketsOut, &st.BytesIn, &st.BytesOut,
		&st.CPS, &st.PPSIn, &st.PPSOut, &st.BPSIn, &st.BPSOut}
	for _, a := range attrs {
		t := int(a.Attr.Type & nlaTypeMask)
		if t <= 0 || t >= len(fields) {
			continue
		}
		switch {
		case len(a.Value) >= 8 && (wide || t == 4 || t == 5):
			*fields[t] = binary.NativeEndian.Uint64(a.Value)
		case len(a.Value) >= 4:
			*fields[t] = uint64(binary.NativeEndian.Uint32(a.Value))
		}
	}
	return st, nil
}

func addrFrom(v []byte, f Family) (netip.Addr, error) {
	switch {
	case f == IPv4 && len(v) >= 4:
		return netip.AddrFrom4([4]byte(v[:4])), nil
	case f == IPv6 && len(v) >= 16:
		return netip.AddrFrom16([16]byte(v[:16])), nil
	}
	return netip.Addr{}, fmt.Errorf("bad IPVS address attribute (%d bytes, family %s)", len(v), f)
}

func familyFromAF(af uint16) Family {
	switch af {
	case unix.AF_INET:
		return IPv4
	case unix.AF_INET6:
		return IPv6
	}
	return FamilyInvalid
}

func protoFromIP(p uint16) Protocol {
	switch p {
	case unix.IPPROTO_TCP:
		return TCP
	case unix.IPPROTO_UDP:
		return UDP
	case unix.IPPROTO_SCTP:
		return SCTP
	}
	return ProtoInvalid
}
