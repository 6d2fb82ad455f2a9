package checks

import (
	"context"
	"sync"
)

// mailbox coalesces transitions between the checks and a possibly slow
// consumer: it keeps the latest transition per ID, in order of first
// change, and drops one that brings an ID back to the state the consumer
// last received.
type mailbox struct {
	mu      sync.Mutex
	pending map[ID]queued
	order   []slot // may hold stale slots; skipped on pop
	seq     uint64
	sent    map[ID]sentState // state the consumer has (or is being handed)
	signal  chan struct{}    // buffered(1)
}

// queued is a pending transition and the sequence number of its slot.
type queued struct {
	tr  Transition
	seq uint64
}

// sentState is what the consumer knows of an ID.
type sentState struct {
	up bool
	w  Weight
}

// slot is a place in the delivery order.
type slot struct {
	id  ID
	seq uint64
}

func newMailbox() *mailbox {
	return &mailbox{pending: map[ID]queued{}, sent: map[ID]sentState{}, signal: make(chan struct{}, 1)}
}

// reset records the state the consumer assumes for a new ID.
func (m *mailbox) reset(id ID, up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, id)
	m.sent[id] = sentState{up: up}
}

// forget drops everything about a removed ID.
func (m *mailbox) forget(id ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, id)
	delete(m.sent, id)
}

// put queues tr, replacing a pending transition of the same ID.
func (m *mailbox) put(tr Transition) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st, ok := m.sent[tr.ID]; ok && st == (sentState{tr.Up, tr.Weight}) {
		delete(m.pending, tr.ID) // back where the consumer thinks it is
		return
	}
	q, ok := m.pending[tr.ID]
	if !ok {
		m.seq++
		q.seq = m.seq
		m.order = append(m.order, slot{tr.ID, q.seq})
	}
	q.tr = tr
	m.pending[tr.ID] = q
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
		m.sent[sl.id] = sentState{q.tr.Up, q.tr.Weight}
		return q.tr, true
	}
	m.order = nil // release the backing array once drained
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
