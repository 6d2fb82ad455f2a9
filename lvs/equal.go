package lvs

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// DefaultScheduler is the scheduler IPVS and ipvsadm use when none is named.
const DefaultScheduler = "wlc"

// Canonical returns s in the form the kernel reports it, so that a desired
// service and its read-back compare equal: the default scheduler filled in,
// the timeout cut to whole seconds, a full-length persistence netmask and any
// netmask of a non-persistent service written as zero, IPv4-mapped addresses
// unmapped, an unset forwarding method as Route (ipvsadm's default), the
// port of a DR or TUN real server (or of one without a port) as the
// service's, as ipvsadm sets it, and destinations sorted by key. Counters
// are left as they are. The result may share s's destinations: treat them
// as read-only.
func (s Service) Canonical() Service {
	c := s
	c.Key = s.Key.canonical()
	if c.Scheduler == "" {
		c.Scheduler = DefaultScheduler
	}
	c.Timeout = s.Timeout.Truncate(time.Second)
	if c.Timeout == 0 || c.NetmaskBits >= c.Key.maxBits() || c.NetmaskBits < 0 {
		c.NetmaskBits = 0
	}
	c.Flags &= FlagFallback | FlagPort | FlagSched3
	if c.destsCanonical() {
		return c // shares s's destinations: callers must not modify them
	}
	c.Destinations = make([]Destination, len(s.Destinations))
	for i, d := range s.Destinations {
		c.Destinations[i] = c.canonicalDest(d)
	}
	slices.SortFunc(c.Destinations, func(a, b Destination) int { return a.Key().Compare(b.Key()) })
	return c
}

// canonicalDest applies ipvsadm's defaults to one destination of c.
func (c Service) canonicalDest(d Destination) Destination {
	d.Addr = d.Addr.Unmap()
	if d.Forward == FwdInvalid {
		d.Forward = Route // ipvsadm's default, -g
	}
	switch {
	case d.Forward != Tunnel, d.TunType == TunIPIP:
		d.TunType, d.TunPort, d.TunFlags = TunIPIP, 0, 0
	case d.TunType == TunGRE:
		d.TunPort = 0
	}
	if c.Key.FWMark == 0 && (d.Port == 0 || d.Forward != Masq) {
		d.Port = c.Key.Port // as ipvsadm does: DR and TUN cannot change the port
	}
	return d
}

// destsCanonical reports whether c's destinations are already canonical and
// sorted, the common case, so that Canonical need not copy them.
func (c Service) destsCanonical() bool {
	for i, d := range c.Destinations {
		if c.canonicalDest(d) != d {
			return false
		}
		if i > 0 && c.Destinations[i-1].Key().Compare(d.Key()) >= 0 {
			return false
		}
	}
	return true
}

func (k ServiceKey) canonical() ServiceKey {
	k.Addr = k.Addr.Unmap()
	if k.Family == FamilyInvalid {
		k.Family = FamilyOf(k.Addr)
	}
	if k.FWMark != 0 {
		if k.Family == FamilyInvalid {
			k.Family = IPv4
		}
		k.Proto, k.Addr, k.Port = ProtoNone, netip.Addr{}, 0
	}
	return k
}

func (k ServiceKey) maxBits() int {
	if k.Family == IPv6 {
		return 128
	}
	return 32
}

// Compare orders service keys: family, firewall mark, protocol, address, port.
func (k ServiceKey) Compare(o ServiceKey) int {
	if k.Family != o.Family {
		return cmp.Compare(k.Family, o.Family)
	}
	if k.FWMark != o.FWMark {
		return cmp.Compare(k.FWMark, o.FWMark)
	}
	if k.Proto != o.Proto {
		return cmp.Compare(k.Proto, o.Proto)
	}
	if c := k.Addr.Compare(o.Addr); c != 0 {
		return c
	}
	return cmp.Compare(k.Port, o.Port)
}

// Compare orders destination keys by address, then port.
func (k DestKey) Compare(o DestKey) int {
	if c := k.Addr.Compare(o.Addr); c != 0 {
		return c
	}
	return cmp.Compare(k.Port, o.Port)
}

// Equal reports whether s and o describe the same service with the same real
// servers, ignoring counters and connection counts and the order of the
// destinations. Both sides are compared in canonical form.
func (s Service) Equal(o Service) bool {
	a, b := s.Canonical(), o.Canonical()
	if !a.attrsEqual(b) || len(a.Destinations) != len(b.Destinations) {
		return false
	}
	for i := range a.Destinations {
		if a.Destinations[i].Key() != b.Destinations[i].Key() || !a.Destinations[i].Equal(b.Destinations[i]) {
			return false
		}
	}
	return true
}

// attrsEqual compares the service attributes IPVS stores, not the
// destinations; both sides must be canonical.
func (s Service) attrsEqual(o Service) bool {
	return s.Key == o.Key && s.Scheduler == o.Scheduler && s.Flags == o.Flags &&
		s.Timeout == o.Timeout && s.NetmaskBits == o.NetmaskBits && s.PE == o.PE &&
		s.OnePacket == o.OnePacket
}

// Equal reports whether d and o have the same settings (weight, forwarding
// method, thresholds), ignoring counters and connection counts. It does not
// compare keys.
func (d Destination) Equal(o Destination) bool {
	return d.Weight == o.Weight && d.Forward == o.Forward &&
		d.UpperThreshold == o.UpperThreshold && d.LowerThreshold == o.LowerThreshold &&
		d.TunType == o.TunType && d.TunPort == o.TunPort && d.TunFlags == o.TunFlags
}

// withoutDests returns a copy of s with no destinations and no counters.
func (s Service) withoutDests() Service {
	s.Destinations = nil
	s.Stats = Stats{}
	return s
}
