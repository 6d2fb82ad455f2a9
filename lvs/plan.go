package lvs

import (
	"fmt"
	"slices"
	"strings"
)

// OpKind is the kind of one change to the IPVS table. Its zero value is
// invalid.
type OpKind uint8

// Operation kinds, in the order Plan emits them: services are created before
// their destinations, and destinations are deleted before the services that
// are deleted.
const (
	OpInvalid OpKind = iota
	OpAddService
	OpUpdateService
	OpAddDest
	OpUpdateDest
	OpDelDest
	OpDelService
)

// String names the kind ("add-service", "update-dest", ...).
func (k OpKind) String() string {
	switch k {
	case OpAddService:
		return "add-service"
	case OpUpdateService:
		return "update-service"
	case OpAddDest:
		return "add-dest"
	case OpUpdateDest:
		return "update-dest"
	case OpDelDest:
		return "del-dest"
	case OpDelService:
		return "del-service"
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// Op is one change to the IPVS table. Service carries the service's
// attributes (without destinations); Dest is set for destination operations.
// Was describes the observed settings an update replaces, for messages.
type Op struct {
	Kind    OpKind
	Service Service
	Dest    Destination
	Was     string
}

// IsDest reports whether the operation concerns a destination.
func (o Op) IsDest() bool {
	return o.Kind == OpAddDest || o.Kind == OpUpdateDest || o.Kind == OpDelDest
}

// String describes the operation on one line, for logs and tests:
// "add-dest tcp 10.0.0.1:80 -> 192.168.1.10:80 masq weight 1".
func (o Op) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", o.Kind, o.Service.Key)
	switch o.Kind {
	case OpAddService:
		b.WriteString(" " + svcAttrs(o.Service))
	case OpUpdateService:
		fmt.Fprintf(&b, " %s (was %s)", svcAttrs(o.Service), o.Was)
	case OpAddDest:
		fmt.Fprintf(&b, " -> %s %s", o.Dest.Key(), destAttrs(o.Dest))
	case OpUpdateDest:
		fmt.Fprintf(&b, " -> %s %s (was %s)", o.Dest.Key(), destAttrs(o.Dest), o.Was)
	case OpDelDest:
		fmt.Fprintf(&b, " -> %s", o.Dest.Key())
	}
	return b.String()
}

func svcAttrs(s Service) string {
	out := s.Scheduler
	if s.Flags != 0 {
		out += fmt.Sprintf(" flags %#x", uint8(s.Flags))
	}
	if s.Timeout > 0 {
		out += fmt.Sprintf(" persistent %s", s.Timeout)
		if s.NetmaskBits > 0 {
			out += fmt.Sprintf("/%d", s.NetmaskBits)
		}
	}
	if s.PE != "" {
		out += " pe " + s.PE
	}
	return out
}

func destAttrs(d Destination) string {
	out := fmt.Sprintf("%s weight %d", d.Forward, d.Weight)
	if d.UpperThreshold != 0 || d.LowerThreshold != 0 {
		out += fmt.Sprintf(" thresholds %d/%d", d.UpperThreshold, d.LowerThreshold)
	}
	return out
}

// Plan returns the operations that turn the observed table into the desired
// one, in a safe order: add services, update services, add destinations,
// update destinations, delete destinations, delete services; within a kind,
// sorted by service key then destination key. Observed services that are not
// desired are deleted only when owned reports them as ours; the rest are
// foreign and left alone (see Foreign). A nil owned owns nothing beyond the
// desired set. Unchanged services and destinations produce no operation.
func Plan(desired, observed []Service, owned func(ServiceKey) bool) []Op {
	obs := make(map[ServiceKey]Service, len(observed))
	for _, s := range observed {
		c := s.Canonical()
		obs[c.Key] = c
	}
	want := canonicalSorted(desired)
	var add, upd, addD, updD, delD, del []Op
	seen := make(map[ServiceKey]bool, len(want))
	for _, d := range want {
		seen[d.Key] = true
		o, ok := obs[d.Key]
		if !ok {
			add = append(add, Op{Kind: OpAddService, Service: d.withoutDests()})
			for _, dst := range d.Destinations {
				addD = append(addD, Op{Kind: OpAddDest, Service: d.withoutDests(), Dest: dst})
			}
			continue
		}
		if !d.attrsEqual(o) {
			upd = append(upd, Op{Kind: OpUpdateService, Service: d.withoutDests(), Was: svcAttrs(o)})
		}
		a, u, x := planDests(d, o)
		addD, updD, delD = append(addD, a...), append(updD, u...), append(delD, x...)
	}
	for _, o := range canonicalSorted(observed) {
		if !seen[o.Key] && owned != nil && owned(o.Key) {
			del = append(del, Op{Kind: OpDelService, Service: o.withoutDests()})
		}
	}
	return slices.Concat(add, upd, addD, updD, delD, del)
}

// planDests diffs the destinations of one service present on both sides.
func planDests(d, o Service) (add, upd, del []Op) {
	have := make(map[DestKey]Destination, len(o.Destinations))
	for _, x := range o.Destinations {
		have[x.Key()] = x
	}
	svc := d.withoutDests()
	for _, w := range d.Destinations {
		h, ok := have[w.Key()]
		switch {
		case !ok:
			add = append(add, Op{Kind: OpAddDest, Service: svc, Dest: w})
		case !w.Equal(h):
			upd = append(upd, Op{Kind: OpUpdateDest, Service: svc, Dest: w, Was: destAttrs(h)})
		}
		delete(have, w.Key())
	}
	for _, x := range o.Destinations {
		if _, stale := have[x.Key()]; stale {
			del = append(del, Op{Kind: OpDelDest, Service: svc, Dest: x})
		}
	}
	return add, upd, del
}

// Foreign returns the keys of observed services that are neither desired nor
// owned, sorted: services someone else programmed.
func Foreign(desired, observed []Service, owned func(ServiceKey) bool) []ServiceKey {
	want := make(map[ServiceKey]bool, len(desired))
	for _, d := range desired {
		want[d.Key.canonical()] = true
	}
	var out []ServiceKey
	for _, o := range observed {
		k := o.Key.canonical()
		if !want[k] && (owned == nil || !owned(k)) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, ServiceKey.Compare)
	return out
}

func canonicalSorted(in []Service) []Service {
	out := make([]Service, len(in))
	for i, s := range in {
		out[i] = s.Canonical()
	}
	slices.SortFunc(out, func(a, b Service) int { return a.Key.Compare(b.Key) })
	return out
}
