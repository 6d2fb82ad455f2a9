package vrrp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Datagram is a received VRRP payload and what the socket said about it.
type Datagram struct {
	Data    []byte
	Src     netip.Addr // IP source: the sender's primary address
	Dst     netip.Addr // IP destination: the group or our unicast address
	TTL     int        // IPv4 TTL or IPv6 hop limit; -1 if unknown
	IfIndex int        // receiving interface; 0 if unknown
}

// validator checks received adverts against an instance's configuration.
type validator struct {
	version  int
	ipv6     bool
	vrid     uint8
	authType uint8
	auth     [authLen]byte
	interval time.Duration
	addrs    []netip.Addr // sorted advertised VIPs
	local    netip.Addr
	peers    []netip.Addr // unicast mode when not empty
	siblings []uint8      // VRIDs of our other instances on this interface
	buf      []netip.Addr // the address list of the advert last checked
}

func newValidator(cfg Config, local netip.Addr) validator {
	v := validator{
		version: cfg.Version, ipv6: cfg.IPv6, vrid: cfg.VRID,
		interval: cfg.AdvertInterval, local: local,
		addrs: advertAddrs(cfg), peers: slices.Clone(cfg.UnicastPeers),
	}
	if cfg.Version == 2 && cfg.AuthPass != "" {
		v.authType = AuthSimple
		copy(v.auth[:], cfg.AuthPass)
	}
	return v
}

// advertAddrs is the sorted list of VIP addresses of the instance's family,
// as carried in its adverts.
func advertAddrs(cfg Config) []netip.Addr {
	var as []netip.Addr
	for _, v := range cfg.VIPs {
		a := v.Prefix.Addr()
		if a.Is6() == cfg.IPv6 && !slices.Contains(as, a) {
			as = append(as, a)
		}
	}
	slices.SortFunc(as, netip.Addr.Compare)
	return as
}

// check validates a datagram. It returns the advert and DropNone, or the
// drop reason and a message in the style of keepalived's logs. The address
// list is not checked here (see sameVIPs).
func (v *validator) check(d Datagram) (Packet, DropReason, string) {
	if d.TTL >= 0 && d.TTL != 255 {
		return Packet{}, DropTTL, fmt.Sprintf("invalid TTL/HL: received %d and expect 255", d.TTL)
	}
	p, err := parseInto(d.Data, v.ipv6, v.buf[:0])
	if cap(p.Addresses) > cap(v.buf) {
		v.buf = p.Addresses[:0] // kept for the next advert
	}
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return p, pe.Reason, pe.Msg
		}
		return p, DropTruncated, err.Error()
	}
	if int(p.Version) != v.version {
		return p, DropVersion, fmt.Sprintf("wrong version: received %d and expect %d", p.Version, v.version)
	}
	if p.Type != TypeAdvertisement {
		return p, DropType, fmt.Sprintf("invalid packet type: %d and expect %d", p.Type, TypeAdvertisement)
	}
	if !Verify(d.Data, d.Src, d.Dst) {
		return p, DropChecksum, fmt.Sprintf("invalid VRRPv%d checksum", p.Version)
	}
	if p.VRID != v.vrid && slices.Contains(v.siblings, p.VRID) {
		return p, dropSibling, ""
	}
	if p.VRID != v.vrid {
		return p, DropVRID, fmt.Sprintf("VRID %d is not ours (%d)", p.VRID, v.vrid)
	}
	if d.Src == v.local {
		return p, DropOwn, "our own advert"
	}
	if len(v.peers) > 0 && !slices.Contains(v.peers, d.Src) {
		return p, DropNotPeer, fmt.Sprintf("sender %v is not a unicast peer", d.Src)
	}
	if p.Version == 2 && (p.AuthType != v.authType || p.AuthType == AuthSimple && p.AuthData != v.auth) {
		return p, DropAuth, fmt.Sprintf("authentication mismatch: type %d, expect %d", p.AuthType, v.authType)
	}
	if p.Version == 2 && p.AdvertInterval != v.interval {
		return p, DropInterval, fmt.Sprintf("advert interval %v differs from ours %v", p.AdvertInterval, v.interval)
	}
	return p, DropNone, ""
}

// sameVIPs reports whether an accepted advert carries our address list
// (in any order), and returns its list sorted: the packet's own list,
// sorted in place, in the validator's buffer until the next check.
func (v *validator) sameVIPs(p Packet) (bool, []netip.Addr) {
	got := p.Addresses
	slices.SortFunc(got, netip.Addr.Compare)
	return slices.Equal(got, v.addrs), got
}
