package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMailboxCoalesces(t *testing.T) {
	tests := []struct {
		name string
		base map[ID]bool
		put  []Transition
		want []Transition
	}{
		{"one", map[ID]bool{"a": true}, []Transition{{ID: "a", Up: false}}, []Transition{{ID: "a", Up: false}}},
		{"flap back is dropped", map[ID]bool{"a": true},
			[]Transition{{ID: "a", Up: false}, {ID: "a", Up: true}}, nil},
		{"latest wins, first-change order", map[ID]bool{"a": true, "b": true},
			[]Transition{{ID: "a", Up: false, Reason: "1"}, {ID: "b", Up: false}, {ID: "a", Up: true}, {ID: "a", Up: false, Reason: "2"}},
			[]Transition{{ID: "b", Up: false}, {ID: "a", Up: false, Reason: "2"}}},
		{"no-op against base", map[ID]bool{"a": false}, []Transition{{ID: "a", Up: false}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailbox()
			for id, up := range tc.base {
				m.reset(id, up)
			}
			for _, tr := range tc.put {
				m.put(tr)
			}
			var got []Transition
			for {
				tr, ok := m.pop()
				if !ok {
					break
				}
				got = append(got, tr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("delivered (-want +got):\n%s", d)
			}
		})
	}
}

func TestMailboxInFlightThenBack(t *testing.T) {
	m := newMailbox()
	m.reset("a", true)
	m.put(Transition{ID: "a", Up: false})
	if tr, ok := m.pop(); !ok || tr.Up {
		t.Fatalf("pop = %v, %v", tr, ok)
	}
	// The consumer now has "down": coming back up must be delivered.
	m.put(Transition{ID: "a", Up: true})
	if tr, ok := m.pop(); !ok || !tr.Up {
		t.Fatalf("pop after in-flight = %v, %v; want up", tr, ok)
	}
	m.forget("a")
	m.put(Transition{ID: "b", Up: true})
	if tr, ok := m.pop(); !ok || tr.ID != "b" {
		t.Fatalf("unknown ID not delivered: %v %v", tr, ok)
	}
}
