package director

import (
	"slices"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/track"
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
	// AllUp counts every real server as up, whatever Health says.
	AllUp bool
	// Weights holds what the checks do to real servers' weights
	// (misc_dynamic); absent: the configured weight.
	Weights map[RealKey]checks.Weight
	// Files holds the track_file states that real servers follow
	// (FILE_CHECK, filecheck.go).
	Files map[track.Key]track.State
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

	// For Update: where each service of the table stands in the config,
	// where each service of the config stands in Desired.Services (by
	// config index: one map of 10,000 keys rather than two), and the SNAT
	// rules each service of the table contributes.
	conf map[lvs.ServiceKey]int
	pos  []int32
	snat [][]lvs.SNATRule
}

// Configured returns the table cfg means with every real server up and
// this director master of every instance: what `havsd export` prints and
// what the kernel settings are checked against.
func Configured(cfg *conf.Config) Outcome { return Compute(cfg, Inputs{AllUp: true}) }

// Service returns the service keyed k as the outcome wants it programmed,
// and false when the outcome leaves it out of the table (master-only mode
// on a backup).
func (o Outcome) Service(k lvs.ServiceKey) (lvs.Service, bool) {
	i, ok := o.conf[k]
	if !ok {
		return lvs.Service{}, false
	}
	return o.Desired.Services[o.pos[i]], true
}

// Compute returns the desired IPVS table and packet-filter rules. It is a pure
// function of the configuration and the inputs.
func Compute(cfg *conf.Config, in Inputs) Outcome {
	n := len(cfg.Services)
	out := Outcome{
		Quorum: make(map[lvs.ServiceKey]lvs.QuorumState, n),
		pos:    make([]int32, n),
		conf:   make(map[lvs.ServiceKey]int, n),
		snat:   make([][]lvs.SNATRule, 0, n),
	}
	out.Desired.Services = make([]lvs.Service, 0, n)
	var reals []lvs.Real
	wanted := make(map[uint32]bool)
	for i := range cfg.Services {
		vs := &cfg.Services[i]
		key := vs.Service.Key
		if in.MasterOnly && vs.Instance != "" && !in.Master[vs.Instance] {
			continue
		}
		svc, q, snat := computeService(vs, in, &reals)
		out.Quorum[key] = q
		out.pos[i] = int32(len(out.Desired.Services))
		out.conf[key] = i
		out.Desired.Services = append(out.Desired.Services, svc)
		out.snat = append(out.snat, snat)
		if key.FWMark != 0 {
			wanted[key.FWMark] = true
		}
	}
	out.Desired.SNAT = slices.Concat(out.snat...)
	for _, m := range cfg.Marks {
		if wanted[m.Mark] {
			out.Desired.Marks = append(out.Desired.Marks, m)
		}
	}
	return out
}

// Update recomputes the services keyed keys of an Outcome that Compute made
// from cfg, in place, after a change of their health alone: the common
// case, real servers going up or down, costs those services instead of
// all, and one copy of the table however many changed together. It
// reports false, changing nothing, when one of them is not in the table.
func (o *Outcome) Update(cfg *conf.Config, in Inputs, keys ...lvs.ServiceKey) bool {
	for _, k := range keys {
		if _, ok := o.conf[k]; !ok {
			return false
		}
	}
	// The previous table was handed over: change a copy.
	o.Desired.Services = slices.Clone(o.Desired.Services)
	var reals []lvs.Real
	snatChanged := false
	for _, key := range keys {
		i := o.conf[key]
		p := o.pos[i]
		svc, q, snat := computeService(&cfg.Services[i], in, &reals)
		o.Desired.Services[p] = svc
		o.Quorum[key] = q
		if len(snat) > 0 || len(o.snat[p]) > 0 {
			o.snat[p] = snat
			snatChanged = true
		}
	}
	if snatChanged {
		o.Desired.SNAT = slices.Concat(o.snat...)
	}
	return true
}

// computeService is one service's destinations (health, quorum, sorry
// server, drains), its quorum state and its full-NAT rules. reals is a
// scratch buffer reused across calls.
func computeService(vs *conf.VirtualService, in Inputs, reals *[]lvs.Real) (lvs.Service, lvs.QuorumState, []lvs.SNATRule) {
	key := vs.Service.Key
	svc := vs.Service
	pool := lvs.Pool{Quorum: vs.Quorum, Hysteresis: vs.Hysteresis, Reals: (*reals)[:0]}
	for _, rs := range vs.Reals {
		dest, filesUp := realDest(in, key, rs) // filecheck.go
		pool.Reals = append(pool.Reals, lvs.Real{Dest: dest, Healthy: in.AllUp || up(in.Health, key, rs) && filesUp, Inhibit: rs.InhibitOnFailure})
	}
	if vs.Sorry != nil {
		pool.Sorry, pool.SorryInhibit = &vs.Sorry.Dest, vs.Sorry.InhibitOnFailure
	}
	var q lvs.QuorumState
	svc.Destinations, q = pool.Destinations(in.Quorum[key])
	*reals = pool.Reals // Destinations copies what it keeps: reuse the buffer
	var snat []lvs.SNATRule
	add := func(rs conf.RealServer) {
		if rs.FullNAT && slices.ContainsFunc(svc.Destinations, func(d lvs.Destination) bool { return d.Key() == rs.Dest.Key() }) {
			snat = append(snat, lvs.SNATRule{Dest: rs.Dest.Key(), Proto: key.Proto, Source: rs.SNATSource})
		}
	}
	for _, rs := range vs.Reals {
		add(rs)
	}
	if vs.Sorry != nil {
		add(*vs.Sorry)
	}
	for _, dr := range in.Draining[key] {
		if !slices.ContainsFunc(svc.Destinations, func(d lvs.Destination) bool { return d.Key() == dr.Dest.Key() }) {
			d := dr.Dest
			d.Weight = 0
			svc.Destinations = append(svc.Destinations, d)
		}
	}
	return svc, q, snat
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
	ids := make(map[string]RealKey)
	t := targets(cfg, func(id string, k RealKey) { ids[id] = k })
	return t, ids
}

// checkTargets returns the health-check targets of a configuration, keyed
// by RealID, for the scheduler.
func checkTargets(cfg *conf.Config) map[string][]checks.Spec {
	return targets(cfg, func(string, RealKey) {})
}

func targets(cfg *conf.Config, named func(id string, k RealKey)) map[string][]checks.Spec {
	t := make(map[string][]checks.Spec)
	add := func(svc lvs.ServiceKey, rs *conf.RealServer) {
		if len(rs.Checks) > 0 {
			k := RealKey{svc, rs.Dest.Key()}
			id := k.String()
			t[id] = rs.Checks
			named(id, k)
		}
	}
	for i := range cfg.Services {
		vs := &cfg.Services[i]
		for j := range vs.Reals {
			add(vs.Service.Key, &vs.Reals[j])
		}
		if vs.Sorry != nil {
			add(vs.Service.Key, vs.Sorry)
		}
	}
	return t
}

// PriorityDeltas returns, for every instance with track_service entries, how
// much its priority is lowered: the sum of the weights of its tracked
// services that have lost quorum.
func PriorityDeltas(cfg *conf.Config, quorum map[lvs.ServiceKey]lvs.QuorumState) map[string]int {
	out := make(map[string]int)
	if len(cfg.TrackServices) == 0 {
		return out // no 10,000-entry map per health change for nothing
	}
	keys := make(map[string]lvs.ServiceKey, len(cfg.Services))
	for _, vs := range cfg.Services {
		keys[vs.Name] = vs.Service.Key
	}
	for _, t := range cfg.TrackServices {
		d := out[t.Instance]
		if k, ok := keys[t.Service]; ok && quorum[k] == lvs.QuorumLost {
			d += t.Weight
		}
		out[t.Instance] = d
	}
	return out
}
