package checks

import (
	"context"
	"sync"
)

// mailbox coalesces transitions between the checks and a possibly slow
// consumer: it keeps the latest transition per ID, in order of first
// change, and drops one that brings an ID back to the state the consumer
// last received. What the consumer last received lives with each target
// (target.sent), guarded by the mailbox's lock, rather than in a map of
// every ID.
type mailbox struct {
	mu      sync.Mutex
	pending map[ID]queued
	peak    int    // most entries pending since pending was made
	order   []slot // may hold stale slots; skipped on pop
	seq     uint64
	signal  chan struct{} // buffered(1)
}

// queued is a pending transition, the sequence number of its slot and
// the state to update when it is handed over (nil: the ID is unknown).
type queued struct {
	tr   Transition
	seq  uint64
	sent *sentState
}

// sentState is what the consumer knows of an ID; known is false until
// reset.
type sentState struct {
	known bool
	up    bool
	w     Weight
}

// slot is a place in the delivery order.
type slot struct {
	id  ID
	seq uint64
}

// shrinkAbove is the number of pending transitions past which the pending
// map is made anew once drained: a map keeps its largest size, and a
// burst (every check failing at start) would otherwise hold one entry's
// room per target for good.
const shrinkAbove = 256

func newMailbox() *mailbox {
	return &mailbox{pending: map[ID]queued{}, signal: make(chan struct{}, 1)}
}

// reset records in st the state the consumer assumes for a new ID.
func (m *mailbox) reset(st *sentState, id ID, up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, id)
	*st = sentState{known: true, up: up}
}

// forget drops the pending transition of a removed ID.
func (m *mailbox) forget(id ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, id)
}

// put queues tr, replacing a pending transition of the same ID; st is
// what the consumer has of it (nil when unknown).
func (m *mailbox) put(tr Transition, st *sentState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st != nil && st.known && st.up == tr.Up && st.w == tr.Weight {
		delete(m.pending, tr.ID) // back where the consumer thinks it is
		return
	}
	q, ok := m.pending[tr.ID]
	if !ok {
		m.seq++
		q.seq = m.seq
		m.order = append(m.order, slot{tr.ID, q.seq})
	}
	q.tr, q.sent = tr, st
	m.pending[tr.ID] = q
	m.peak = max(m.peak, len(m.pending))
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

// pop takes the oldest pending transition and records it as sent.
func (m *mailbox) pop() (Transition, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.order) > 0 {
		sl := m.order[0]
		m.order = m.order[1:]
		q, ok := m.pending[sl.id]
		if !ok || q.seq != sl.seq {
			continue
		}
		delete(m.pending, sl.id)
		if q.sent != nil {
			*q.sent = sentState{known: true, up: q.tr.Up, w: q.tr.Weight}
		}
		return q.tr, true
	}
	m.order = nil // release the backing array once drained
	if len(m.pending) == 0 && m.peak > shrinkAbove {
		m.pending, m.peak = map[ID]queued{}, 0
	}
	return Transition{}, false
}

// deliver hands transitions to out until ctx is done.
func (m *mailbox) deliver(ctx context.Context, out chan<- Transition) {
	for {
		tr, ok := m.pop()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-m.signal:
				continue
			}
		}
		select {
		case out <- tr:
		case <-ctx.Done():
			return
		}
	}
}
