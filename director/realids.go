package director

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
)

// realIDs turns the health-check IDs of the running configuration back
// into the real servers they name. It keeps no map of every ID: an ID is
// parsed (ParseRealID) and looked up among its service's real servers, and
// only IDs that do not parse back to their key are kept aside. With 40,000
// checked real servers a map of every ID to its key held several MB.
type realIDs struct {
	cfg *conf.Config
	svc map[lvs.ServiceKey]int // index in cfg.Services
	odd map[string]RealKey     // IDs that ParseRealID does not give back
}

// newRealIDs indexes cfg's checked real servers.
func newRealIDs(cfg *conf.Config) *realIDs {
	r := &realIDs{cfg: cfg, svc: make(map[lvs.ServiceKey]int, len(cfg.Services))}
	for i := range cfg.Services {
		vs := &cfg.Services[i]
		r.svc[vs.Service.Key] = i
		check := func(rs *conf.RealServer) {
			if len(rs.Checks) == 0 {
				return
			}
			k := RealKey{vs.Service.Key, rs.Dest.Key()}
			id := k.String()
			if got, ok := ParseRealID(id); !ok || got != k {
				if r.odd == nil {
					r.odd = make(map[string]RealKey)
				}
				r.odd[id] = k
			}
		}
		for j := range vs.Reals {
			check(&vs.Reals[j])
		}
		if vs.Sorry != nil {
			check(vs.Sorry)
		}
	}
	return r
}

// lookup returns the real server id names, and false when id is not a
// checked real server of the configuration (a target of an older one).
func (r *realIDs) lookup(id string) (RealKey, bool) {
	if k, ok := r.odd[id]; ok {
		return k, true
	}
	k, ok := ParseRealID(id)
	if !ok || !r.checked(k) {
		return RealKey{}, false
	}
	if len(r.odd) > 0 {
		if _, odd := r.odd[k.String()]; odd {
			return RealKey{}, false // k's own ID is another string
		}
	}
	return k, true
}

// checked reports whether k is a real server (or sorry server) of the
// configuration with health checks.
func (r *realIDs) checked(k RealKey) bool {
	i, ok := r.svc[k.Service]
	if !ok {
		return false
	}
	vs := &r.cfg.Services[i]
	for j := range vs.Reals {
		if rs := &vs.Reals[j]; rs.Dest.Key() == k.Dest && len(rs.Checks) > 0 {
			return true
		}
	}
	return vs.Sorry != nil && vs.Sorry.Dest.Key() == k.Dest && len(vs.Sorry.Checks) > 0
}

// ParseRealID parses a RealID ("tcp 10.0.0.1:80/192.168.0.10:80",
// "fwmark 66 inet6/[2001:db8::1]:80") back into the key it was made from.
func ParseRealID(id string) (RealKey, bool) {
	i := strings.LastIndexByte(id, '/')
	if i < 0 {
		return RealKey{}, false
	}
	dest, err := netip.ParseAddrPort(id[i+1:])
	if err != nil {
		return RealKey{}, false
	}
	var k lvs.ServiceKey
	svc := id[:i]
	if mark, ok := strings.CutPrefix(svc, "fwmark "); ok {
		k.Family, k.Proto = lvs.IPv4, lvs.ProtoNone
		if m, ok := strings.CutSuffix(mark, " inet6"); ok {
			mark, k.Family = m, lvs.IPv6
		}
		m, err := strconv.ParseUint(mark, 10, 32)
		if err != nil || m == 0 {
			return RealKey{}, false
		}
		k.FWMark = uint32(m)
	} else {
		proto, addr, ok := strings.Cut(svc, " ")
		if !ok {
			return RealKey{}, false
		}
		switch proto {
		case "tcp":
			k.Proto = lvs.TCP
		case "udp":
			k.Proto = lvs.UDP
		case "sctp":
			k.Proto = lvs.SCTP
		default:
			return RealKey{}, false
		}
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			return RealKey{}, false
		}
		k.Family, k.Addr, k.Port = lvs.FamilyOf(ap.Addr()), ap.Addr(), ap.Port()
	}
	return RealKey{k, lvs.DestKey{Addr: dest.Addr(), Port: dest.Port()}}, true
}
