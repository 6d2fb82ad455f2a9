package conf

import (
	"fmt"
	"strings"

	"github.com/havsd/havsd/lvs"
)

// Forwarding returns the real server's forwarding method as the
// configuration names it: "nat", "dr", "tun" or "fullnat".
func (r RealServer) Forwarding() string {
	switch {
	case r.FullNAT:
		return "fullnat"
	case r.Dest.Forward == lvs.Route:
		return "dr"
	case r.Dest.Forward == lvs.Tunnel:
		return "tun"
	}
	return "nat"
}

// FromIPVS builds a configuration holding the given IPVS table: one virtual
// service per service, named after its key ("tcp_172_25_254_100_80",
// "fwmark_66"), real servers with their weights, forwarding methods and
// thresholds. Counters are dropped.
func FromIPVS(svcs []lvs.Service) *Config {
	cfg := &Config{Global: compileGlobal((&decoder{}).global(nil))}
	for _, s := range svcs {
		vs := VirtualService{Name: ServiceName(s.Key), Service: s}
		vs.Service.Destinations = nil
		vs.Service.Stats = lvs.Stats{}
		for _, d := range s.Destinations {
			d.Stats, d.ActiveConns, d.InactiveConns = lvs.Stats{}, 0, 0
			vs.Reals = append(vs.Reals, RealServer{Dest: d})
		}
		cfg.Services = append(cfg.Services, vs)
	}
	return cfg
}

// ServiceName is the name import gives a service: its key with every
// character that is not a letter or digit turned into '_'.
func ServiceName(k lvs.ServiceKey) string {
	if k.FWMark != 0 {
		if k.Family == lvs.IPv6 {
			return fmt.Sprintf("fwmark_%d_ipv6", k.FWMark)
		}
		return fmt.Sprintf("fwmark_%d", k.FWMark)
	}
	name := fmt.Sprintf("%s_%s_%d", k.Proto, k.Addr, k.Port)
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}
