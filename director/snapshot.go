package director

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
)

// status builds the snapshot; it runs on the director goroutine.
func (d *Director) status() Status {
	st := Status{
		RouterID:   d.cfg.Global.RouterID,
		ConfigFile: d.configFile,
		Started:    d.started,
		LastReload: d.reload,
		IPVS:       d.deps.IPVS.Status(),
		Trackers:   d.trackerStatus(),
		Sync:       d.syncStatus(),
		BGP:        d.bgpStatus(),
	}
	for _, name := range slices.Sorted(maps.Keys(d.instances)) {
		in := d.instances[name]
		is := in.vrrp.Status()
		is.Name = name
		if is.State == "" || in.died {
			is.State = stateName(in.state, in.died)
		}
		is.Transitions = in.count
		is.LastTransition = in.last
		st.Instances = append(st.Instances, is)
	}
	observed := make(map[lvs.ServiceKey]lvs.Service)
	for _, s := range d.deps.IPVS.Observed() {
		observed[s.Key] = s
	}
	health := d.health.Status()
	for i := range d.cfg.Services {
		st.Services = append(st.Services, d.serviceStatus(&d.cfg.Services[i], observed, health))
	}
	for _, k := range slices.SortedFunc(maps.Keys(observed), lvs.ServiceKey.Compare) {
		if _, ours := d.last.Service(k); !ours {
			st.IPVS.Foreign = append(st.IPVS.Foreign, k.String())
		}
	}
	return st
}

func (d *Director) serviceStatus(vs *conf.VirtualService, observed map[lvs.ServiceKey]lvs.Service, health map[string]HealthStatus) ServiceStatus {
	key := vs.Service.Key
	ss := ServiceStatus{
		Name:      vs.Name,
		Key:       key.String(),
		Scheduler: vs.Service.Scheduler,
		QuorumUp:  d.last.Quorum[key] != lvs.QuorumLost,
	}
	want, wanted := d.last.Service(key)
	ss.Wanted = wanted
	if vs.Service.Timeout > 0 {
		ss.Persistence = vs.Service.Timeout.String()
	}
	ss.SorryActive = vs.Sorry != nil && slices.ContainsFunc(want.Destinations, func(d lvs.Destination) bool {
		return d.Key() == vs.Sorry.Dest.Key() && d.Weight > 0
	})
	obs, programmed := observed[key]
	ss.Programmed = programmed
	if programmed {
		ss.Conns, ss.PacketsIn, ss.PacketsOut = obs.Stats.Conns, obs.Stats.PacketsIn, obs.Stats.PacketsOut
		ss.BytesIn, ss.BytesOut = obs.Stats.BytesIn, obs.Stats.BytesOut
		ss.Rates = ratesOf(obs.Stats)
	}
	real := func(rs conf.RealServer, sorry, draining bool) RealStatus {
		r := RealStatus{
			Address:      rs.Dest.Key().String(),
			Forward:      rs.Forwarding(),
			Weight:       rs.Dest.Weight,
			KernelWeight: -1,
			Health:       "unchecked",
			Sorry:        sorry,
			Draining:     draining,
		}
		if len(rs.Checks) > 0 {
			r.Health = "up"
			id := RealID(key, rs.Dest.Key())
			if h, ok := health[id]; ok {
				r.LastError = h.LastError
				if h.Stretched > 0 {
					r.CheckInterval = h.Stretched.Round(time.Millisecond).String()
				}
			}
			_, decided := d.up[RealKey{key, rs.Dest.Key()}]
			h, known := health[RealID(key, rs.Dest.Key())]
			switch {
			case !decided && !(known && h.Checked) && alpha(rs.Checks):
				r.Health, r.Decision = "unknown", "out of service until a check passes (alpha)"
			case !decided && !(known && h.Checked):
				r.Health, r.Decision = "unknown", "in service until its first check result (alpha off)"
			case !up(d.up, key, rs):
				r.Health = "down"
			}
		}
		if len(rs.TrackFiles) > 0 && !filesOK(rs, d.trk.states) { // filecheck.go
			r.Health, r.Decision = "down", "held down by a track_file (FILE_CHECK)"
		}
		if i := slices.IndexFunc(obs.Destinations, func(o lvs.Destination) bool { return o.Key() == rs.Dest.Key() }); i >= 0 {
			o := obs.Destinations[i]
			r.KernelWeight = o.Weight
			r.ActiveConns, r.InactiveConns = o.ActiveConns, o.InactiveConns
			r.Conns, r.PacketsIn, r.PacketsOut = o.Stats.Conns, o.Stats.PacketsIn, o.Stats.PacketsOut
			r.BytesIn, r.BytesOut = o.Stats.BytesIn, o.Stats.BytesOut
			r.Rates = ratesOf(o.Stats)
		}
		return r
	}
	for _, rs := range vs.Reals {
		ss.Reals = append(ss.Reals, real(rs, false, false))
	}
	if vs.Sorry != nil {
		ss.Reals = append(ss.Reals, real(*vs.Sorry, true, false))
	}
	for _, dr := range d.draining[key] {
		ss.Reals = append(ss.Reals, real(conf.RealServer{Dest: dr.Dest}, false, true))
	}
	return ss
}

// DumpState is the director's full internal state, for `havsd dump` and
// SIGUSR1.
type DumpState struct {
	Status   Status                  `json:"status"`
	Config   *conf.Config            `json:"config"`
	Health   map[string]HealthStatus `json:"health"`
	Up       map[string]bool         `json:"up"`
	Quorum   map[string]string       `json:"quorum"`
	Draining map[string][]Drain      `json:"draining,omitempty"`
	Desired  lvs.Desired             `json:"desired"`
	Observed []lvs.Service           `json:"observed"`
}

// Dump returns the full internal state.
func (d *Director) Dump(ctx context.Context) (DumpState, error) {
	var ds DumpState
	err := d.do(ctx, func() {
		ds = DumpState{
			Status:   d.status(),
			Config:   d.cfg,
			Health:   d.health.Status(),
			Up:       make(map[string]bool, len(d.up)),
			Quorum:   make(map[string]string, len(d.last.Quorum)),
			Draining: make(map[string][]Drain, len(d.draining)),
			Desired:  d.last.Desired,
			Observed: d.deps.IPVS.Observed(),
		}
		for k, u := range d.up {
			ds.Up[k.String()] = u
		}
		for k, q := range d.last.Quorum {
			ds.Quorum[k.String()] = q.String()
		}
		for k, list := range d.draining {
			ds.Draining[k.String()] = list
		}
	})
	return ds, err
}

// ratesOf takes the kernel's rate estimates from IPVS counters.
func ratesOf(s lvs.Stats) Rates {
	return Rates{Conns: s.CPS, PacketsIn: s.PPSIn, PacketsOut: s.PPSOut, BytesIn: s.BPSIn, BytesOut: s.BPSOut}
}
