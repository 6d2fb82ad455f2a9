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
func (k OpKind) String() string { return enumString(k, opKindNames, "OpKind") }

var opKindNames = map[OpKind]string{OpAddService: "add-service", OpUpdateService: "update-service", OpAddDest: "add-dest", OpUpdateDest: "update-dest", OpDelDest: "del-dest", OpDelService: "del-service"}

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
	if s.OnePacket {
		out += " ops"
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
	want, have := canonicalSorted(desired), canonicalSorted(observed)
	var add, upd, addD, updD, delD, del []Op
	if len(have) == 0 {
		// From empty (a cold start): everything is added, in one list
		// sized once, instead of growing lists of 370-byte operations.
		n := len(want)
		for _, s := range want {
			n += len(s.Destinations)
		}
		out := make([]Op, len(want), n)
		for i, s := range want {
			out[i] = Op{Kind: OpAddService, Service: s.withoutDests()}
		}
		for i, s := range want {
			for _, dst := range s.Destinations {
				out = append(out, Op{Kind: OpAddDest, Service: out[i].Service, Dest: dst})
			}
		}
		return out
	}
	i, j := 0, 0
	for i < len(want) || j < len(have) {
		c := 0
		switch {
		case i == len(want):
			c = 1
		case j == len(have):
			c = -1
		default:
			c = want[i].Key.Compare(have[j].Key)
		}
		switch {
		case c < 0: // desired only
			d := want[i].withoutDests()
			add = append(add, Op{Kind: OpAddService, Service: d})
			for _, dst := range want[i].Destinations {
				addD = append(addD, Op{Kind: OpAddDest, Service: d, Dest: dst})
			}
			i++
		case c > 0: // observed only
			if owned != nil && owned(have[j].Key) {
				del = append(del, Op{Kind: OpDelService, Service: have[j].withoutDests()})
			}
			j++
		default:
			if !want[i].attrsEqual(have[j]) {
				upd = append(upd, Op{Kind: OpUpdateService, Service: want[i].withoutDests(), Was: svcAttrs(have[j])})
			}
			addD, updD, delD = planDests(want[i], have[j], addD, updD, delD)
			i, j = i+1, j+1
		}
	}
	return slices.Concat(add, upd, addD, updD, delD, del)
}

// planDests diffs the sorted destinations of one service present on both
// sides, appending to the given lists.
func planDests(d, o Service, add, upd, del []Op) ([]Op, []Op, []Op) {
	svc := d.withoutDests()
	w, h := d.Destinations, o.Destinations
	i, j := 0, 0
	for i < len(w) || j < len(h) {
		c := 0
		switch {
		case i == len(w):
			c = 1
		case j == len(h):
			c = -1
		default:
			c = w[i].Key().Compare(h[j].Key())
		}
		switch {
		case c < 0:
			add = append(add, Op{Kind: OpAddDest, Service: svc, Dest: w[i]})
			i++
		case c > 0:
			del = append(del, Op{Kind: OpDelDest, Service: svc, Dest: h[j]})
			j++
		default:
			if !w[i].Equal(h[j]) {
				upd = append(upd, Op{Kind: OpUpdateDest, Service: svc, Dest: w[i], Was: destAttrs(h[j])})
			}
			i, j = i+1, j+1
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
	slices.SortStableFunc(out, func(a, b Service) int { return a.Key.Compare(b.Key) })
	// A key listed twice is one service: the first listing wins.
	return slices.CompactFunc(out, func(a, b Service) bool { return a.Key == b.Key })
}
