package lvs

import "slices"

// sortedIndex finds k in a table sorted by key; tail holds entries appended
// after the sorted part, searched linearly.
func sortedIndex(out []Service, sorted int, k ServiceKey) (int, bool) {
	i, ok := slices.BinarySearchFunc(out[:sorted], k, func(s Service, k ServiceKey) int { return s.Key.Compare(k) })
	if ok {
		return i, true
	}
	for j := sorted; j < len(out); j++ {
		if out[j].Key == k {
			return j, true
		}
	}
	return 0, false
}

// patch returns observed (sorted by canonical key) with the applied
// operations folded in, so that the reconciler's view stays current without
// a second dump. New entries have zero counters. observed is not modified.
func patch(observed []Service, applied []Op) []Service {
	if len(applied) == 0 {
		return observed
	}
	out := slices.Clone(observed)
	sorted := len(out)
	var deleted map[ServiceKey]bool
	for _, op := range applied {
		i, ok := sortedIndex(out, sorted, op.Service.Key)
		switch op.Kind {
		case OpAddService:
			if !ok {
				out = append(out, op.Service.withoutDests())
			}
		case OpUpdateService:
			if ok {
				svc := op.Service.withoutDests()
				svc.Destinations, svc.Stats = out[i].Destinations, out[i].Stats
				out[i] = svc
			}
		case OpDelService:
			if deleted == nil {
				deleted = make(map[ServiceKey]bool)
			}
			deleted[op.Service.Key] = true
		case OpAddDest, OpUpdateDest, OpDelDest:
			if ok {
				out[i].Destinations = patchDests(out[i].Destinations, op)
			}
		}
	}
	if deleted != nil {
		out = slices.DeleteFunc(out, func(s Service) bool { return deleted[s.Key] })
	}
	if len(out) > sorted-len(deleted) {
		slices.SortFunc(out, func(a, b Service) int { return a.Key.Compare(b.Key) })
	}
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

// replace returns observed (sorted) with the services in fresh swapped in:
// a nil entry means the kernel no longer has the service. observed is not
// modified.
func replace(observed []Service, fresh map[ServiceKey]*Service) []Service {
	if len(fresh) == 0 {
		return observed
	}
	out := slices.Clone(observed)
	sorted := len(out)
	var gone map[ServiceKey]bool
	for k, f := range fresh {
		i, ok := sortedIndex(out, sorted, k)
		switch {
		case f == nil && ok:
			if gone == nil {
				gone = make(map[ServiceKey]bool)
			}
			gone[k] = true
		case f != nil && ok:
			out[i] = *f
		case f != nil:
			out = append(out, *f)
		}
	}
	if gone != nil {
		out = slices.DeleteFunc(out, func(s Service) bool { return gone[s.Key] })
	}
	if len(out) > sorted-len(gone) {
		slices.SortFunc(out, func(a, b Service) int { return a.Key.Compare(b.Key) })
	}
	return out
}
