package lvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"time"
)

// The IPVS generic-netlink message format (include/uapi/linux/ip_vs.h):
// encoding of requests and decoding of answers, as pure functions over
// byte slices. The socket side is netlink_linux.go.

// IPVS generic-netlink commands.
const (
	ipvsCmdNewService = 1
	ipvsCmdSetService = 2
	ipvsCmdDelService = 3
	ipvsCmdGetService = 4
	ipvsCmdNewDest    = 5
	ipvsCmdSetDest    = 6
	ipvsCmdDelDest    = 7
	ipvsCmdGetDest    = 8
	ipvsCmdNewDaemon  = 9
	ipvsCmdDelDaemon  = 10
	ipvsCmdGetDaemon  = 11
	ipvsCmdSetConfig  = 12
	ipvsCmdGetInfo    = 15
)

// Top-level attributes of an IPVS command.
const (
	ipvsCmdAttrSvc           = 1
	ipvsCmdAttrDest          = 2
	ipvsCmdAttrDaemon        = 3
	ipvsCmdAttrTimeoutTCP    = 4
	ipvsCmdAttrTimeoutTCPFin = 5
	ipvsCmdAttrTimeoutUDP    = 6
)

// Service attributes.
const (
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
	svcFlagOnePacket  = 0x0004
	svcFlagSchedShift = 3 // IP_VS_SVC_F_SCHED1 is 0x0008
)

// Destination attributes.
const (
	destAttrAddr        = 1
	destAttrPort        = 2
	destAttrFwdMethod   = 3
	destAttrWeight      = 4
	destAttrUThresh     = 5
	destAttrLThresh     = 6
	destAttrActiveConns = 7
	destAttrInactConns  = 8
	destAttrStats       = 10
	destAttrAF          = 11
	destAttrStats64     = 12
	destAttrTunType     = 13 // kernel 5.3+
	destAttrTunPort     = 14
	destAttrTunFlags    = 15

	connFwdMask   = 0x0007
	connFwdMasq   = 0
	connFwdTunnel = 2
	connFwdRoute  = 3
)

// Linux address families and IP protocol numbers as IPVS carries them.
const (
	afInet   = 2
	afInet6  = 10
	protoTCP = 6
	protoUDP = 17
	protoSCT = 132
)

const nlaTypeMask = 0x3fff // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER

var ne = binary.NativeEndian

// attrWriter appends netlink attributes to a buffer. It is the whole
// encoder: IPVS requests are small and flat but for one level of nesting.
type attrWriter struct{ b []byte }

func (w *attrWriter) put(typ uint16, v []byte) {
	w.b = ne.AppendUint16(w.b, uint16(4+len(v)))
	w.b = ne.AppendUint16(w.b, typ)
	w.b = append(w.b, v...)
	w.pad()
}

func (w *attrWriter) pad() {
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *attrWriter) u8(typ uint16, v uint8) { w.put(typ, []byte{v}) }

func (w *attrWriter) u16(typ, v uint16) {
	w.b = ne.AppendUint16(w.b, 6)
	w.b = ne.AppendUint16(w.b, typ)
	w.b = ne.AppendUint16(w.b, v)
	w.pad()
}

func (w *attrWriter) be16(typ, v uint16) {
	w.b = ne.AppendUint16(w.b, 6)
	w.b = ne.AppendUint16(w.b, typ)
	w.b = binary.BigEndian.AppendUint16(w.b, v)
	w.pad()
}

func (w *attrWriter) u32(typ uint16, v uint32) {
	w.b = ne.AppendUint16(w.b, 8)
	w.b = ne.AppendUint16(w.b, typ)
	w.b = ne.AppendUint32(w.b, v)
}

// str writes a NUL-terminated string, as the kernel's NLA_NUL_STRING wants.
func (w *attrWriter) str(typ uint16, s string) {
	w.b = ne.AppendUint16(w.b, uint16(4+len(s)+1))
	w.b = ne.AppendUint16(w.b, typ)
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
	w.pad()
}

// begin opens a nested attribute; end closes the one begin returned.
func (w *attrWriter) begin(typ uint16) int {
	off := len(w.b)
	w.b = ne.AppendUint16(w.b, 0)
	w.b = ne.AppendUint16(w.b, typ|0x8000) // NLA_F_NESTED
	return off
}

func (w *attrWriter) end(off int) { ne.PutUint16(w.b[off:], uint16(len(w.b)-off)) }

// errBadAttr reports an attribute whose length runs past its message.
var errBadAttr = errors.New("malformed netlink attribute")

// forAttrs calls fn for each attribute in b with the type's flag bits
// stripped; fn's value aliases b.
func forAttrs(b []byte, fn func(typ uint16, v []byte)) error {
	for len(b) >= 4 {
		n := int(ne.Uint16(b))
		if n < 4 || n > len(b) {
			return errBadAttr
		}
		fn(ne.Uint16(b[2:])&nlaTypeMask, b[4:n])
		b = b[min(len(b), (n+3)&^3):]
	}
	return nil
}

func getU16(v []byte) uint16 {
	if len(v) < 2 {
		return 0
	}
	return ne.Uint16(v)
}

func getU32(v []byte) uint32 {
	if len(v) < 4 {
		return 0
	}
	return ne.Uint32(v)
}

func getStr(v []byte) string {
	for i, c := range v {
		if c == 0 {
			return string(v[:i])
		}
	}
	return string(v)
}

// appendGenl appends a generic-netlink header for cmd (version 1).
func appendGenl(b []byte, cmd uint8) []byte { return append(b, cmd, 1, 0, 0) }

// appendOp appends the generic-netlink payload of one operation (command
// header and attributes) to b, with the attributes ipvsadm sends.
func appendOp(b []byte, op Op) ([]byte, error) {
	var cmd uint8
	full := false
	switch op.Kind {
	case OpAddService:
		cmd, full = ipvsCmdNewService, true
	case OpUpdateService:
		cmd, full = ipvsCmdSetService, true
	case OpDelService:
		cmd = ipvsCmdDelService
	case OpAddDest:
		cmd = ipvsCmdNewDest
	case OpUpdateDest:
		cmd = ipvsCmdSetDest
	case OpDelDest:
		cmd = ipvsCmdDelDest
	default:
		return b, fmt.Errorf("invalid operation kind %d", uint8(op.Kind))
	}
	w := attrWriter{b: appendGenl(b, cmd)}
	appendService(&w, op.Service, full)
	if op.IsDest() {
		off := w.begin(ipvsCmdAttrDest)
		appendDest(&w, op.Dest, op.Kind != OpDelDest)
		w.end(off)
	}
	return w.b, nil
}

// appendService writes the service attribute: its key, and with full its
// settings too.
func appendService(w *attrWriter, s Service, full bool) {
	off := w.begin(ipvsCmdAttrSvc)
	defer w.end(off)
	k := s.Key.canonical()
	w.u16(svcAttrAF, afOf(k.Family))
	if k.FWMark != 0 {
		w.u32(svcAttrFWMark, k.FWMark)
	} else {
		w.u16(svcAttrProtocol, ipProto(k.Proto))
		w.put(svcAttrAddr, k.Addr.AsSlice())
		w.be16(svcAttrPort, k.Port)
	}
	if !full {
		return
	}
	c := s.Canonical()
	w.str(svcAttrSchedName, c.Scheduler)
	if c.PE != "" {
		w.str(svcAttrPEName, c.PE)
	}
	flags := uint32(c.Flags) << svcFlagSchedShift
	if c.Timeout > 0 {
		flags |= svcFlagPersistent
	}
	if c.OnePacket {
		flags |= svcFlagOnePacket
	}
	var fl [8]byte
	ne.PutUint32(fl[:], flags)
	ne.PutUint32(fl[4:], 0xffffffff) // the mask: every flag is set or cleared
	w.put(svcAttrFlags, fl[:])
	w.u32(svcAttrTimeout, uint32(c.Timeout/time.Second))
	w.u32(svcAttrNetmask, netmaskValue(c))
}

// netmaskValue is the persistence netmask as IPVS stores it: an IPv6 prefix
// length, or an IPv4 mask whose bytes are in network order.
func netmaskValue(c Service) uint32 {
	n := c.NetmaskBits
	if n == 0 {
		n = c.Key.maxBits()
	}
	if c.Key.Family == IPv6 {
		return uint32(n)
	}
	var m [4]byte
	binary.BigEndian.PutUint32(m[:], ^uint32(0)<<(32-n))
	return ne.Uint32(m[:])
}

// appendDest writes a destination's key and, with full, its settings.
func appendDest(w *attrWriter, d Destination, full bool) {
	addr := d.Addr.Unmap()
	w.put(destAttrAddr, addr.AsSlice())
	w.be16(destAttrPort, d.Port)
	if !full {
		return
	}
	w.u32(destAttrFwdMethod, fwdFlags(d.Forward))
	w.u32(destAttrWeight, uint32(max(d.Weight, 0)))
	w.u32(destAttrUThresh, d.UpperThreshold)
	w.u32(destAttrLThresh, d.LowerThreshold)
	w.u16(destAttrAF, afOf(FamilyOf(addr)))
	if d.Forward == Tunnel && d.TunType != TunIPIP {
		// Sent only when asked for, so that kernels before 5.3 (which
		// know no tunnel types) keep working for plain IP-in-IP.
		w.u8(destAttrTunType, uint8(d.TunType))
		w.be16(destAttrTunPort, d.TunPort)
		w.u16(destAttrTunFlags, uint16(d.TunFlags))
	}
}

// parseServiceMsg decodes a service answer: generic-netlink header, then
// the nested service attribute.
func parseServiceMsg(b []byte) (Service, error) {
	if len(b) < 4 {
		return Service{}, fmt.Errorf("short IPVS service message")
	}
	var svc []byte
	if err := forAttrs(b[4:], func(typ uint16, v []byte) {
		if typ == ipvsCmdAttrSvc {
			svc = v
		}
	}); err != nil {
		return Service{}, err
	}
	if svc == nil {
		return Service{}, fmt.Errorf("IPVS service message without a service")
	}
	return parseServiceAttrs(svc)
}

func parseServiceAttrs(b []byte) (Service, error) {
	var s Service
	var addr, mask, stats32, stats64 []byte
	var flags uint32
	err := forAttrs(b, func(typ uint16, v []byte) {
		switch typ {
		case svcAttrAF:
			s.Key.Family = familyFromAF(getU16(v))
		case svcAttrProtocol:
			s.Key.Proto = protoFromIP(getU16(v))
		case svcAttrAddr:
			addr = v
		case svcAttrPort:
			if len(v) >= 2 {
				s.Key.Port = binary.BigEndian.Uint16(v)
			}
		case svcAttrFWMark:
			s.Key.FWMark = getU32(v)
		case svcAttrSchedName:
			s.Scheduler = getStr(v)
		case svcAttrFlags:
			flags = getU32(v)
		case svcAttrTimeout:
			s.Timeout = time.Duration(getU32(v)) * time.Second
		case svcAttrNetmask:
			mask = v
		case svcAttrStats:
			stats32 = v
		case svcAttrStats64:
			stats64 = v
		case svcAttrPEName:
			s.PE = getStr(v)
		}
	})
	if err != nil {
		return Service{}, err
	}
	if s.Key.FWMark != 0 {
		s.Key.Proto = ProtoNone
	} else if s.Key.Addr, err = addrFrom(addr, s.Key.Family); err != nil {
		return Service{}, err
	}
	s.Flags = SchedFlags(flags>>svcFlagSchedShift) & (FlagFallback | FlagPort | FlagSched3)
	s.OnePacket = flags&svcFlagOnePacket != 0
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

// parseDestMsg decodes a destination answer of service family f.
func parseDestMsg(b []byte, f Family) (Destination, error) {
	if len(b) < 4 {
		return Destination{}, fmt.Errorf("short IPVS destination message")
	}
	var dst []byte
	if err := forAttrs(b[4:], func(typ uint16, v []byte) {
		if typ == ipvsCmdAttrDest {
			dst = v
		}
	}); err != nil {
		return Destination{}, err
	}
	if dst == nil {
		return Destination{}, fmt.Errorf("IPVS destination message without a destination")
	}
	return parseDestAttrs(dst, f)
}

func parseDestAttrs(b []byte, f Family) (Destination, error) {
	var d Destination
	var addr, stats32, stats64 []byte
	err := forAttrs(b, func(typ uint16, v []byte) {
		switch typ {
		case destAttrAddr:
			addr = v
		case destAttrPort:
			if len(v) >= 2 {
				d.Port = binary.BigEndian.Uint16(v)
			}
		case destAttrFwdMethod:
			d.Forward = forwardFromFlags(getU32(v))
		case destAttrWeight:
			d.Weight = int(int32(getU32(v)))
		case destAttrUThresh:
			d.UpperThreshold = getU32(v)
		case destAttrLThresh:
			d.LowerThreshold = getU32(v)
		case destAttrActiveConns:
			d.ActiveConns = int(getU32(v))
		case destAttrInactConns:
			d.InactiveConns = int(getU32(v))
		case destAttrAF:
			f = familyFromAF(getU16(v)) // a real server of another family (kernel 3.18+)
		case destAttrStats:
			stats32 = v
		case destAttrStats64:
			stats64 = v
		case destAttrTunType:
			if len(v) >= 1 {
				d.TunType = TunType(v[0])
			}
		case destAttrTunPort:
			if len(v) >= 2 {
				d.TunPort = binary.BigEndian.Uint16(v)
			}
		case destAttrTunFlags:
			d.TunFlags = TunFlags(getU16(v))
		}
	})
	if err != nil {
		return Destination{}, err
	}
	if d.Addr, err = addrFrom(addr, f); err != nil {
		return Destination{}, err
	}
	if stats64 != nil {
		d.Stats, err = parseStats(stats64, true)
	} else if stats32 != nil {
		d.Stats, err = parseStats(stats32, false)
	}
	return d, err
}

// netmaskBits decodes the persistence netmask: an IPv4 mask in network byte
// order, or an IPv6 prefix length. Full length reads as zero, the default.
func netmaskBits(v []byte, f Family) int {
	if len(v) < 4 {
		return 0
	}
	n := 0
	if f == IPv6 {
		n = int(ne.Uint32(v))
	} else {
		n = bits.OnesCount32(binary.BigEndian.Uint32(v))
	}
	if (f == IPv6 && n >= 128) || (f != IPv6 && n >= 32) {
		return 0
	}
	return n
}

func parseStats(b []byte, wide bool) (Stats, error) {
	var st Stats
	fields := [...]*uint64{nil, &st.Conns, &st.PacketsIn, &st.PacketsOut, &st.BytesIn, &st.BytesOut,
		&st.CPS, &st.PPSIn, &st.PPSOut, &st.BPSIn, &st.BPSOut}
	err := forAttrs(b, func(typ uint16, v []byte) {
		t := int(typ)
		if t <= 0 || t >= len(fields) {
			return
		}
		switch {
		case len(v) >= 8 && (wide || t == 4 || t == 5):
			*fields[t] = ne.Uint64(v)
		case len(v) >= 4:
			*fields[t] = uint64(ne.Uint32(v))
		}
	})
	return st, err
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
	case afInet:
		return IPv4
	case afInet6:
		return IPv6
	}
	return FamilyInvalid
}

func afOf(f Family) uint16 {
	if f == IPv6 {
		return afInet6
	}
	return afInet
}

func protoFromIP(p uint16) Protocol {
	switch p {
	case protoTCP:
		return TCP
	case protoUDP:
		return UDP
	case protoSCT:
		return SCTP
	}
	return ProtoInvalid
}

func ipProto(p Protocol) uint16 {
	switch p {
	case UDP:
		return protoUDP
	case SCTP:
		return protoSCT
	}
	return protoTCP
}

func forwardFromFlags(fl uint32) Forward {
	switch fl & connFwdMask {
	case connFwdMasq:
		return Masq
	case connFwdRoute:
		return Route
	case connFwdTunnel:
		return Tunnel
	}
	return FwdInvalid
}

func fwdFlags(f Forward) uint32 {
	switch f {
	case Masq:
		return connFwdMasq
	case Tunnel:
		return connFwdTunnel
	}
	return connFwdRoute // ipvsadm's default
}
