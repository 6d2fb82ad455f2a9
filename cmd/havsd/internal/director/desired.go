package director

import (
	"slices"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
)

// RealID names a real server of a service for health checks, logs and
// status: "tcp 10.0.0.1:80/192.168.0.10:80".
func RealID(svc lvs.ServiceKey, d lvs.DestKey) string {
	return svc.String() + "/" + d.String()
}

// Inputs are everything the desired table depends on besides the config.
type Inputs struct {
	// Health maps RealID to up/down; a real server with checks but no entry
	// is up unless one of its checks sets Alpha.
	Health map[string]bool
	// Master maps an instance name to whether this director is its master.
	Master map[string]bool
	// QuorumUp remembers each service's quorum state for hysteresis; a
	// service with no entry starts with quorum up.
	QuorumUp map[lvs.ServiceKey]bool
	// Draining lists real servers removed from the config that are kept at
	// weight 0 until their deadline.
	Draining map[lvs.ServiceKey][]Drain
	// MasterOnly programs only services whose instance is master here.
	MasterOnly bool
}

// Drain is a real server on its way out.
type Drain struct {
	Dest  lvs.Destination
	Until time.Time
}

// Outcome is the desired table plus the quorum state it implies.
type Outcome struct {
	Desired  lvs.Desired
	QuorumUp map[lvs.ServiceKey]bool
}

// Compute returns the desired IPVS table and packet-filter rules. It is a pure
// function of the configuration and the inputs.
func Compute(cfg *conf.Config, in Inputs) Outcome {
	out := Outcome{QuorumUp: make(map[lvs.ServiceKey]bool, len(cfg.Services))}
	wanted := make(map[uint32]bool)
	for i := range cfg.Services {
		vs := &cfg.Services[i]
		key := vs.Service.Key
		if in.MasterOnly && vs.Instance != "" && !in.Master[vs.Instance] {
			continue
		}
		svc := vs.Service
		svc.Destinations = nil
		live := 0
		for _, rs := range vs.Reals {
			d := rs.Dest
			if up(in.Health, key, rs) {
				live += d.Weight
			} else if rs.InhibitOnFailure {
				d.Weight = 0
			} else {
				continue
			}
			svc.Destinations = append(svc.Destinations, d)
			if rs.FullNAT {
				out.Desired.SNAT = append(out.Desired.SNAT, lvs.SNATRule{Dest: d.Key(), Proto: key.Proto, Source: rs.SNATSource})
			}
		}
		q := quorum(vs, live, in.QuorumUp)
		out.QuorumUp[key] = q
		if !q && vs.Sorry != nil {
			svc.Destinations = append(svc.Destinations, vs.Sorry.Dest)
			if vs.Sorry.FullNAT {
				out.Desired.SNAT = append(out.Desired.SNAT, lvs.SNATRule{Dest: vs.Sorry.Dest.Key(), Proto: key.Proto, Source: vs.Sorry.SNATSource})
			}
		}
		for _, dr := range in.Draining[key] {
			if !slices.ContainsFunc(svc.Destinations, func(d lvs.Destination) bool { return d.Key() == dr.Dest.Key() }) {
				d := dr.Dest
				d.Weight = 0
				svc.Destinations = append(svc.Destinations, d)
			}
		}
		out.Desired.Services = append(out.Desired.Services, svc)
		if key.FWMark != 0 {
			wanted[key.FWMark] = true
		}
	}
	for _, m := range cfg.Marks {
		if wanted[m.Mark] {
			out.Desired.Marks = append(out.Desired.Marks, m)
		}
	}
	return out
}

// up reports whether a real server counts as alive.
func up(health map[string]bool, svc lvs.ServiceKey, rs conf.RealServer) bool {
	if len(rs.Checks) == 0 {
		return true
	}
	if h, ok := health[RealID(svc, rs.Dest.Key())]; ok {
		return h
	}
	return !alpha(rs.Checks)
}

func alpha(specs []checks.Spec) bool {
	return slices.ContainsFunc(specs, func(s checks.Spec) bool { return s.Alpha })
}

// quorum applies keepalived's rule: quorum is lost when the live weight falls
// below Quorum-Hysteresis and regained at Quorum+Hysteresis or more. A
// service without a sorry server or explicit quorum always keeps quorum at 1.
func quorum(vs *conf.VirtualService, live int, prev map[lvs.ServiceKey]bool) bool {
	q := vs.Quorum
	if q <= 0 {
		q = 1
	}
	was, seen := prev[vs.Service.Key]
	if !seen {
		was = true
	}
	if was {
		return live >= q-vs.Hysteresis && live > 0
	}
	return live >= q+vs.Hysteresis
}

// Targets returns the health-check targets of a configuration, keyed by RealID.
func Targets(cfg *conf.Config) map[string][]checks.Spec {
	t := make(map[string][]checks.Spec)
	for _, vs := range cfg.Services {
		for _, rs := range vs.Reals {
			if len(rs.Checks) > 0 {
				t[RealID(vs.Service.Key, rs.Dest.Key())] = rs.Checks
			}
		}
		if vs.Sorry != nil && len(vs.Sorry.Checks) > 0 {
			t[RealID(vs.Service.Key, vs.Sorry.Dest.Key())] = vs.Sorry.Checks
		}
	}
	return t
}
