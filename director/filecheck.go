package director

import (
	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/track"
)

// Dynamic real-server weights, as keepalived has them: a script check with
// misc_dynamic sets the weight from its exit status (the checks scheduler
// reports it with the server's health), and a FILE_CHECK (a real server's
// track_file) adds its file's value × weight, or with weight 0 holds the
// server down while the value is not 0. The files are the track_file
// trackers that VRRP instances use too (track.go).

// maxWeight bounds a dynamic weight, as havsd bounds configured ones.
const maxWeight = 65535

// realDest returns rs's destination at the weight its checks and files
// give it, and whether its files let it be up.
func realDest(in Inputs, svc lvs.ServiceKey, rs conf.RealServer) (lvs.Destination, bool) {
	d := rs.Dest
	if in.AllUp {
		return d, true
	}
	if w, ok := in.Weights[RealKey{svc, d.Key()}]; ok {
		d.Weight = w.Apply(d.Weight, maxWeight)
	}
	if len(rs.TrackFiles) == 0 {
		return d, true
	}
	w, ok := fileWeight(int64(d.Weight), rs.TrackFiles, in.Files)
	d.Weight = w
	return d, ok
}

// fileWeight adds the tracked files' values × weights to w and reports
// whether the weight-0 files let the server be up.
func fileWeight(w int64, refs []track.Ref, states map[track.Key]track.State) (int, bool) {
	ok := true
	for _, r := range refs {
		v := int64(states[r.Key].Value) // a file not read yet holds 0, as a missing one
		switch {
		case r.Weight == 0:
			ok = ok && (v != 0) == r.Reverse
		case r.Reverse:
			w -= v * int64(r.Weight)
		default:
			w += v * int64(r.Weight)
		}
	}
	return int(min(max(w, 0), maxWeight)), ok
}

// filesOK reports whether rs's weight-0 track_files let it be up.
func filesOK(rs conf.RealServer, states map[track.Key]track.State) bool {
	_, ok := fileWeight(0, rs.TrackFiles, states)
	return ok
}

// usesFile reports whether a real server of cfg tracks the file k.
func usesFile(cfg *conf.Config, k track.Key) bool {
	for i := range cfg.Services {
		for _, rs := range cfg.Services[i].Reals {
			for _, r := range rs.TrackFiles {
				if r.Key == k {
					return true
				}
			}
		}
	}
	return false
}

// onFileCheck applies a new state of a track_file that real servers
// track: it runs the notify_up/notify_down of each server whose health it
// changes (its checks up and its files letting it be) and recomputes the
// table. old is the file's previous state.
func (d *Director) onFileCheck(old, cur track.State) {
	before := map[track.Key]track.State{cur.Key: old}
	after := map[track.Key]track.State{cur.Key: cur}
	for i := range d.cfg.Services {
		vs := &d.cfg.Services[i]
		for _, rs := range vs.Reals {
			if !tracksFile(rs, cur.Key) {
				continue
			}
			if !up(d.up, vs.Service.Key, rs) {
				continue // down by its checks whatever the file says
			}
			was, now := filesOKWith(rs, d.trk.states, before), filesOKWith(rs, d.trk.states, after)
			k := RealKey{vs.Service.Key, rs.Dest.Key()}
			switch {
			case was == now:
			case now:
				d.runHook("notify_up", rs.NotifyUp, "service", k.Service.String(), "backend", k.Dest.String(), "reason", "track_file "+cur.Key.Name)
			default:
				d.runHook("notify_down", rs.NotifyDown, "service", k.Service.String(), "backend", k.Dest.String(), "reason", "track_file "+cur.Key.Name)
			}
		}
	}
	d.apply()
}

func tracksFile(rs conf.RealServer, k track.Key) bool {
	for _, r := range rs.TrackFiles {
		if r.Key == k {
			return true
		}
	}
	return false
}

// filesOKWith is filesOK with the states in over replacing those in states.
func filesOKWith(rs conf.RealServer, states, over map[track.Key]track.State) bool {
	for _, r := range rs.TrackFiles {
		s, ok := over[r.Key]
		if !ok {
			s = states[r.Key]
		}
		if r.Weight == 0 && (s.Value != 0) != r.Reverse {
			return false
		}
	}
	return true
}

// setWeight records the weight a real server's checks give it.
func (d *Director) setWeight(k RealKey, w checks.Weight) {
	if w == (checks.Weight{}) {
		delete(d.weights, k)
		return
	}
	d.weights[k] = w
}
