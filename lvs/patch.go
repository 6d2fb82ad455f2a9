package lvs

import "slices"

// index finds services by key in a table whose first sorted entries are in
// key order (binary search) and whose later entries were appended out of
// order (a map).
type index struct {
	sorted int
	tail   map[ServiceKey]int
}

func (x *index) find(out []Service, k ServiceKey) (int, bool) {
	if i, ok := slices.BinarySearchFunc(out[:x.sorted], k, func(s Service, k ServiceKey) int { return s.Key.Compare(k) }); ok {
		return i, true
	}
	i, ok := x.tail[k]
	return i, ok
}

func (x *index) add(out []Service, s Service) []Service {
	if x.sorted == len(out) && (x.sorted == 0 || out[x.sorted-1].Key.Compare(s.Key) < 0) {
		x.sorted++ // still in key order (Plan adds services in key order)
		return append(out, s)
	}
	if x.tail == nil {
		x.tail = make(map[ServiceKey]int)
	}
	x.tail[s.Key] = len(out)
	return append(out, s)
}

// patch folds the applied operations into observed (sorted by canonical
// key), so that the reconciler's view stays current without a second dump,
// and returns it. New entries have zero counters. observed's entries are
// modified in place: pass a table no one else holds.
func patch(observed []Service, applied []Op) []Service {
	if len(applied) == 0 {
		return observed
	}
	added := 0
	for _, op := range applied {
		if op.Kind == OpAddService {
			added++
		}
	}
	out := slices.Grow(observed, added)
	x := index{sorted: len(out)}
	var deleted map[ServiceKey]bool
	for n := 0; n < len(applied); n++ {
		op := applied[n]
		i, ok := x.find(out, op.Service.Key)
		switch op.Kind {
		case OpAddService:
			if !ok {
				out = x.add(out, op.Service.withoutDests())
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
			// Plan emits a service's destination operations together:
			// patch the whole run with one copy and one sort.
			end := n + 1
			for end < len(applied) && applied[end].IsDest() && applied[end].Service.Key == op.Service.Key {
				end++
			}
			if ok {
				out[i].Destinations = patchDests(out[i].Destinations, applied[n:end])
			}
			n = end - 1
		}
	}
	if deleted != nil {
		out = slices.DeleteFunc(out, func(s Service) bool { return deleted[s.Key] })
	}
	if len(x.tail) > 0 {
		slices.SortFunc(out, func(a, b Service) int { return a.Key.Compare(b.Key) })
	}
	return out
}

// patchDests applies a run of destination operations of one service to a
// copy of ds and returns it sorted.
func patchDests(ds []Destination, ops []Op) []Destination {
	ds = slices.Grow(slices.Clone(ds), len(ops))
	for _, op := range ops {
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
	x := index{sorted: len(out)}
	var gone map[ServiceKey]bool
	for k, f := range fresh {
		i, ok := x.find(out, k)
		switch {
		case f == nil && ok:
			if gone == nil {
				gone = make(map[ServiceKey]bool)
			}
			gone[k] = true
		case f != nil && ok:
			out[i] = *f
		case f != nil:
			out = x.add(out, *f)
		}
	}
	if gone != nil {
		out = slices.DeleteFunc(out, func(s Service) bool { return gone[s.Key] })
	}
	if len(x.tail) > 0 {
		slices.SortFunc(out, func(a, b Service) int { return a.Key.Compare(b.Key) })
	}
	return out
}
