package lvs

import "slices"

// patch returns observed with the applied operations folded in, so that the
// reconciler's view stays current without a second dump. New entries have
// zero counters.
func patch(observed []Service, applied []Op) []Service {
	if len(applied) == 0 {
		return observed
	}
	idx := make(map[ServiceKey]int, len(observed))
	out := make([]Service, len(observed))
	for i, s := range observed {
		s.Key = s.Key.canonical()
		out[i] = s
		idx[s.Key] = i
	}
	deleted := make(map[ServiceKey]bool)
	for _, op := range applied {
		i, ok := idx[op.Service.Key]
		switch op.Kind {
		case OpAddService:
			idx[op.Service.Key] = len(out)
			out = append(out, op.Service.withoutDests())
			delete(deleted, op.Service.Key)
		case OpUpdateService:
			if ok {
				svc := op.Service.withoutDests()
				svc.Destinations, svc.Stats = out[i].Destinations, out[i].Stats
				out[i] = svc
			}
		case OpDelService:
			deleted[op.Service.Key] = true
		case OpAddDest, OpUpdateDest, OpDelDest:
			if ok {
				out[i].Destinations = patchDests(out[i].Destinations, op)
			}
		}
	}
	out = slices.DeleteFunc(out, func(s Service) bool { return deleted[s.Key] })
	slices.SortFunc(out, func(a, b Service) int { return a.Key.Compare(b.Key) })
	return out
}

func patchDests(ds []Destination, op Op) []Destination {
	ds = slices.Clone(ds)
	j := slices.IndexFunc(ds, func(d Destination) bool { return d.Key() == op.Dest.Key() })
	switch {
	case op.Kind == OpAddDest && j < 0:
		d := op.Dest
		d.Stats, d.ActiveConns, d.InactiveConns = Stats{}, 0, 0
		ds = append(ds, d)
	case op.Kind == OpUpdateDest && j >= 0:
		d := op.Dest
		d.Stats, d.ActiveConns, d.InactiveConns = ds[j].Stats, ds[j].ActiveConns, ds[j].InactiveConns
		ds[j] = d
	case op.Kind == OpDelDest && j >= 0:
		ds = slices.Delete(ds, j, j+1)
	}
	slices.SortFunc(ds, func(a, b Destination) int { return a.Key().Compare(b.Key()) })
	return ds
}
