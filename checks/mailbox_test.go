package checks

import (
	"fmt"
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
			m, sent := newMailbox(), sentStates{}
			for id, up := range tc.base {
				m.reset(sent.of(id), id, up)
			}
			for _, tr := range tc.put {
				m.put(tr, sent[tr.ID])
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
	m, sent := newMailbox(), sentStates{}
	m.reset(sent.of("a"), "a", true)
	m.put(Transition{ID: "a", Up: false}, sent["a"])
	if tr, ok := m.pop(); !ok || tr.Up {
		t.Fatalf("pop = %v, %v", tr, ok)
	}
	// The consumer now has "down": coming back up must be delivered.
	m.put(Transition{ID: "a", Up: true}, sent["a"])
	if tr, ok := m.pop(); !ok || !tr.Up {
		t.Fatalf("pop after in-flight = %v, %v; want up", tr, ok)
	}
	m.forget("a")
	m.put(Transition{ID: "b", Up: true}, nil)
	if tr, ok := m.pop(); !ok || tr.ID != "b" {
		t.Fatalf("unknown ID not delivered: %v %v", tr, ok)
	}
}

// sentStates stands in for the targets that hold what the consumer has.
type sentStates map[ID]*sentState

func (s sentStates) of(id ID) *sentState {
	if s[id] == nil {
		s[id] = new(sentState)
	}
	return s[id]
}

// A burst of pending transitions does not keep its map's room once
// delivered.
func TestMailboxShrinksAfterBurst(t *testing.T) {
	m, sent := newMailbox(), sentStates{}
	n := 4 * shrinkAbove
	for i := range n {
		id := ID(fmt.Sprint(i))
		m.reset(sent.of(id), id, true)
		m.put(Transition{ID: id, Up: false}, sent[id])
	}
	for range n {
		if _, ok := m.pop(); !ok {
			t.Fatal("fewer transitions delivered than queued")
		}
	}
	if _, ok := m.pop(); ok {
		t.Fatal("more transitions delivered than queued")
	}
	m.put(Transition{ID: "0", Up: true}, sent["0"])
	if m.peak != 1 {
		t.Errorf("after the burst: the pending map's peak is %d, want 1 (a new map)", m.peak)
	}
	if tr, ok := m.pop(); !ok || !tr.Up || tr.ID != "0" {
		t.Errorf("after the burst: pop = %+v, %v", tr, ok)
	}
}
