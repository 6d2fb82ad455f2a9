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

// RealKey identifies a real server of a service; it keys the health map, so
// that recomputing the table formats no strings.
type RealKey struct {
	Service lvs.ServiceKey
	Dest    lvs.DestKey
}

// String returns the RealID.
func (k RealKey) String() string { return RealID(k.Service, k.Dest) }

// Inputs are everything the desired table depends on besides the config.
type Inputs struct {
	// Health maps real servers to up/down; a real server with checks but no
	// entry is up unless one of its checks sets Alpha.
	Health map[RealKey]bool
	// Master maps an instance name to whether this director is its master.
	Master map[string]bool
	// Quorum remembers each service's quorum state for hysteresis.
	Quorum map[lvs.ServiceKey]lvs.QuorumState
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
	Desired lvs.Desired
	Quorum  map[lvs.ServiceKey]lvs.QuorumState
}

// Compute returns the desired IPVS table and packet-filter rules. It is a pure
// function of the configuration and the inputs.
func Compute(cfg *conf.Config, in Inputs) Outcome {
	out := Outcome{Quorum: make(map[lvs.ServiceKey]lvs.QuorumState, len(cfg.Services))}
	out.Desired.Services = make([]lvs.Service, 0, len(cfg.Services))
	var reals []lvs.Real
	wanted := make(map[uint32]bool)
	for i := range cfg.Services {
		vs := &cfg.Services[i]
		key := vs.Service.Key
		if in.MasterOnly && vs.Instance != "" && !in.Master[vs.Instance] {
			continue
		}
		svc := vs.Service
		pool := lvs.Pool{Quorum: vs.Quorum, Hysteresis: vs.Hysteresis, Reals: reals[:0]}
		for _, rs := range vs.Reals {
			pool.Reals = append(pool.Reals, lvs.Real{Dest: rs.Dest, Healthy: up(in.Health, key, rs), Inhibit: rs.InhibitOnFailure})
		}
		if vs.Sorry != nil {
			pool.Sorry = &vs.Sorry.Dest
		}
		var q lvs.QuorumState
		svc.Destinations, q = lvs.Apply(pool, in.Quorum[key])
		reals = pool.Reals // Apply copies what it keeps: reuse the buffer
		out.Quorum[key] = q
		snat := func(rs conf.RealServer) {
			if rs.FullNAT && slices.ContainsFunc(svc.Destinations, func(d lvs.Destination) bool { return d.Key() == rs.Dest.Key() }) {
				out.Desired.SNAT = append(out.Desired.SNAT, lvs.SNATRule{Dest: rs.Dest.Key(), Proto: key.Proto, Source: rs.SNATSource})
			}
		}
		for _, rs := range vs.Reals {
			snat(rs)
		}
		if vs.Sorry != nil {
			snat(*vs.Sorry)
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
func up(health map[RealKey]bool, svc lvs.ServiceKey, rs conf.RealServer) bool {
	if len(rs.Checks) == 0 {
		return true
	}
	if h, ok := health[RealKey{svc, rs.Dest.Key()}]; ok {
		return h
	}
	return !alpha(rs.Checks)
}

func alpha(specs []checks.Spec) bool {
	return slices.ContainsFunc(specs, func(s checks.Spec) bool { return s.Alpha })
}

// Targets returns the health-check targets of a configuration, keyed by
// RealID, and the real server each ID names.
func Targets(cfg *conf.Config) (map[string][]checks.Spec, map[string]RealKey) {
	t := make(map[string][]checks.Spec)
	ids := make(map[string]RealKey)
	add := func(svc lvs.ServiceKey, rs conf.RealServer) {
		if len(rs.Checks) > 0 {
			k := RealKey{svc, rs.Dest.Key()}
			t[k.String()] = rs.Checks
			ids[k.String()] = k
		}
	}
	for _, vs := range cfg.Services {
		for _, rs := range vs.Reals {
			add(vs.Service.Key, rs)
		}
		if vs.Sorry != nil {
			add(vs.Service.Key, *vs.Sorry)
		}
	}
	return t, ids
}

// PriorityDeltas returns, for every instance with track_service entries, how
// much its priority is lowered: the sum of the weights of its tracked
// services that have lost quorum.
func PriorityDeltas(cfg *conf.Config, quorum map[lvs.ServiceKey]lvs.QuorumState) map[string]int {
	keys := make(map[string]lvs.ServiceKey, len(cfg.Services))
	for _, vs := range cfg.Services {
		keys[vs.Name] = vs.Service.Key
	}
	out := make(map[string]int)
	for _, t := range cfg.TrackServices {
		d := out[t.Instance]
		if k, ok := keys[t.Service]; ok && quorum[k] == lvs.QuorumLost {
			d += t.Weight
		}
		out[t.Instance] = d
	}
	return out
}
