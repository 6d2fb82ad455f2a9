package vrrp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// Protocol is the IP protocol number of VRRP (RFC 5798 §5.1.1.4).
const Protocol = 112

// TypeAdvertisement is the only VRRP packet type (RFC 5798 §5.2.2).
const TypeAdvertisement = 1

// Auth types of VRRPv2 (RFC 3768 §5.3.6); version 3 has no authentication.
const (
	AuthNone   = 0 // no authentication
	AuthSimple = 1 // simple text password (deprecated by RFC 3768 but used)
	AuthIPAH   = 2 // IP Authentication Header (deprecated)
)

// Multicast groups adverts are sent to (RFC 5798 §5.1.1.2, §5.1.2.2).
var (
	MulticastIPv4 = netip.MustParseAddr("224.0.0.18")
	MulticastIPv6 = netip.MustParseAddr("ff02::12")
)

const (
	headerLen  = 8 // fixed part before the address list
	authLen    = 8 // VRRPv2 authentication data after the address list
	maxV3Inter = 0x0fff
)

// Packet is one VRRP advertisement, version 2 (RFC 3768 §5.3) or version 3
// (RFC 5798 §5.2). It is a value type; Checksum is carried as read or as
// computed by Seal.
type Packet struct {
	// Version is the VRRP protocol version: 2 or 3 (high nibble of byte 0).
	Version uint8
	// Type is the packet type; 1 (ADVERTISEMENT) is the only one defined.
	Type uint8
	// VRID is the Virtual Router Identifier, 1..255.
	VRID uint8
	// Priority is the sender's priority: 255 for the address owner, 1..254
	// for backups, 0 when the master stops participating.
	Priority uint8
	// AuthType is the v2 authentication type (AuthNone, AuthSimple); 0 in v3.
	AuthType uint8
	// Reserved holds the 4 reserved bits before the v3 interval (sent as 0,
	// ignored on receipt, kept for an exact round trip).
	Reserved uint8
	// AdvertInterval is the advertisement interval: whole seconds (8 bits) in
	// v2, centiseconds (12 bits) in v3.
	AdvertInterval time.Duration
	// Checksum is the 16-bit one's complement checksum of the message; in
	// v3 it covers the IPv4/IPv6 pseudo-header too, in v2 it does not.
	Checksum uint16
	// Addresses are the virtual addresses: IPv4 in v2, IPv4 or IPv6 in v3.
	Addresses []netip.Addr
	// AuthData is the v2 authentication data: the simple password padded
	// with zero bytes (RFC 3768 §5.3.10). Absent in v3.
	AuthData [authLen]byte
}

// IPv6 reports whether the advert carries IPv6 addresses.
func (p Packet) IPv6() bool { return len(p.Addresses) > 0 && p.Addresses[0].Is6() }

// Len is the encoded length in bytes.
func (p Packet) Len() int {
	n := headerLen + len(p.Addresses)*p.addrLen()
	if p.Version == 2 {
		n += authLen
	}
	return n
}

func (p Packet) addrLen() int {
	if p.IPv6() {
		return 16
	}
	return 4
}

// ParseError is a decoding failure together with the drop reason it counts as.
type ParseError struct {
	Reason DropReason
	Msg    string
}

func (e *ParseError) Error() string { return e.Msg }

func parseErr(r DropReason, format string, args ...any) error {
	return &ParseError{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// MarshalBinary encodes the packet, writing Checksum as it is (see Seal).
func (p Packet) MarshalBinary() ([]byte, error) {
	return p.appendBinary(nil)
}

// appendBinary is MarshalBinary into buf's storage when it has room.
func (p Packet) appendBinary(buf []byte) ([]byte, error) {
	if p.Version != 2 && p.Version != 3 {
		return nil, fmt.Errorf("encoding advert: version %d", p.Version)
	}
	if len(p.Addresses) == 0 || len(p.Addresses) > 255 {
		return nil, fmt.Errorf("encoding advert: %d addresses", len(p.Addresses))
	}
	six := p.IPv6()
	if p.Version == 2 && six {
		return nil, fmt.Errorf("encoding advert: VRRPv2 carries only IPv4")
	}
	n := p.Len()
	var b []byte
	if cap(buf) >= n {
		b = buf[:n]
		clear(b)
	} else {
		b = make([]byte, n)
	}
	b[0] = p.Version<<4 | p.Type&0x0f
	b[1] = p.VRID
	b[2] = p.Priority
	b[3] = uint8(len(p.Addresses))
	if p.Version == 2 {
		if p.AdvertInterval%time.Second != 0 || p.AdvertInterval < 0 || p.AdvertInterval > 255*time.Second {
			return nil, fmt.Errorf("encoding advert: v2 interval %v is not 0..255 whole seconds", p.AdvertInterval)
		}
		b[4] = p.AuthType
		b[5] = uint8(p.AdvertInterval / time.Second)
	} else {
		cs := p.AdvertInterval / (10 * time.Millisecond)
		if p.AdvertInterval%(10*time.Millisecond) != 0 || cs < 0 || cs > maxV3Inter {
			return nil, fmt.Errorf("encoding advert: v3 interval %v is not 0..4095 centiseconds", p.AdvertInterval)
		}
		binary.BigEndian.PutUint16(b[4:], uint16(p.Reserved&0x0f)<<12|uint16(cs))
	}
	binary.BigEndian.PutUint16(b[6:], p.Checksum)
	off := headerLen
	for _, a := range p.Addresses {
		if a.Is6() != six || !a.IsValid() {
			return nil, fmt.Errorf("encoding advert: mixed or invalid address %v", a)
		}
		s := a.AsSlice()
		off += copy(b[off:], s)
	}
	if p.Version == 2 {
		copy(b[off:], p.AuthData[:])
	}
	return b, nil
}

// UnmarshalBinary decodes an advert. The address family of a v3 advert is
// inferred from its length; use Parse when the socket's family is known.
// Errors are *ParseError.
func (p *Packet) UnmarshalBinary(b []byte) error {
	if len(b) < headerLen {
		return parseErr(DropTruncated, "truncated advert: %d bytes", len(b))
	}
	six := false
	if b[0]>>4 == 3 && len(b) == headerLen+int(b[3])*16 && b[3] > 0 {
		six = true
	}
	q, err := Parse(b, six)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Parse decodes an advert received on an IPv4 (ipv6 false) or IPv6 socket.
// It checks the length and the version but not the checksum (see Verify)
// nor the type. Errors are *ParseError.
func Parse(b []byte, ipv6 bool) (Packet, error) {
	return parseInto(b, ipv6, nil)
}

// parseInto is Parse with the address list in buf when it has room: a
// receiving loop parses every advert into the same buffer.
func parseInto(b []byte, ipv6 bool, buf []netip.Addr) (Packet, error) {
	var p Packet
	if len(b) < headerLen {
		return p, parseErr(DropTruncated, "truncated advert: %d bytes", len(b))
	}
	p.Version = b[0] >> 4
	p.Type = b[0] & 0x0f
	switch {
	case p.Version == 2 && !ipv6, p.Version == 3:
	case p.Version == 2:
		return p, parseErr(DropVersion, "wrong version: received 2 on IPv6, expect 3")
	default:
		return p, parseErr(DropVersion, "wrong version: received %d, expect 2 or 3", p.Version)
	}
	p.VRID, p.Priority = b[1], b[2]
	count := int(b[3])
	if count == 0 {
		return p, parseErr(DropNoAddress, "advert with no address")
	}
	alen := 4
	if ipv6 {
		alen = 16
	}
	want := headerLen + count*alen
	if p.Version == 2 {
		want += authLen
		p.AuthType = b[4]
		p.AdvertInterval = time.Duration(b[5]) * time.Second
	} else {
		v := binary.BigEndian.Uint16(b[4:])
		p.Reserved = uint8(v >> 12)
		p.AdvertInterval = time.Duration(v&maxV3Inter) * 10 * time.Millisecond
	}
	if len(b) < want {
		return p, parseErr(DropTruncated, "truncated advert: %d bytes for %d addresses, want %d", len(b), count, want)
	}
	if len(b) > want {
		return p, parseErr(DropLength, "advert length %d does not match %d addresses (want %d)", len(b), count, want)
	}
	p.Checksum = binary.BigEndian.Uint16(b[6:])
	if cap(buf) >= count {
		p.Addresses = buf[:count]
	} else {
		p.Addresses = make([]netip.Addr, count)
	}
	off := headerLen
	for i := range p.Addresses {
		if ipv6 {
			p.Addresses[i] = netip.AddrFrom16([16]byte(b[off : off+16]))
		} else {
			p.Addresses[i] = netip.AddrFrom4([4]byte(b[off : off+4]))
		}
		off += alen
	}
	if p.Version == 2 {
		copy(p.AuthData[:], b[off:])
	}
	return p, nil
}

// Seal computes the checksum for an advert sent from src to dst and returns
// the encoded packet. src and dst matter only in version 3.
func (p *Packet) Seal(src, dst netip.Addr) ([]byte, error) {
	return p.sealInto(nil, src, dst)
}

// sealInto is Seal into buf's storage when it has room: a sending loop
// seals every advert into the same buffer.
func (p *Packet) sealInto(buf []byte, src, dst netip.Addr) ([]byte, error) {
	p.Checksum = 0
	b, err := p.appendBinary(buf)
	if err != nil {
		return nil, err
	}
	p.Checksum = checksum(b, p.Version, src, dst)
	binary.BigEndian.PutUint16(b[6:], p.Checksum)
	return b, nil
}

// Verify reports whether the encoded advert b sent from src to dst has a
// correct checksum (with the pseudo-header in version 3).
func Verify(b []byte, src, dst netip.Addr) bool {
	if len(b) < headerLen {
		return false
	}
	return checksum(b, b[0]>>4, src, dst) == 0
}

// checksum returns the Internet checksum of b (with its checksum field as
// it is), preceded by the pseudo-header in version 3.
func checksum(b []byte, version uint8, src, dst netip.Addr) uint16 {
	var sum uint32
	if version == 3 {
		if src.Is4() {
			sum = sumBytes(sum, src.AsSlice())
			sum = sumBytes(sum, dst.AsSlice())
			sum += Protocol + uint32(len(b))
		} else {
			sum = sumBytes(sum, src.AsSlice())
			sum = sumBytes(sum, dst.AsSlice())
			sum += uint32(len(b)>>16) + uint32(len(b)&0xffff) + Protocol
		}
	}
	sum = sumBytes(sum, b)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func sumBytes(sum uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return sum
}
