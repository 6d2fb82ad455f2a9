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
	pending map[ID]Transition
	order   []ID          // may hold stale IDs; skipped when not pending
	sent    map[ID]bool   // state the consumer has (or is being handed)
	signal  chan struct{} // buffered(1)
}

func newMailbox() *mailbox {
	return &mailbox{pending: map[ID]Transition{}, sent: map[ID]bool{}, signal: make(chan struct{}, 1)}
}

// reset records the state the consumer assumes for a new ID.
func (m *mailbox) reset(id ID, up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, id)
	m.sent[id] = up
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
	if up, ok := m.sent[tr.ID]; ok && up == tr.Up {
		delete(m.pending, tr.ID) // back where the consumer thinks it is
		return
	}
	if _, ok := m.pending[tr.ID]; !ok {
		m.order = append(m.order, tr.ID)
	}
	m.pending[tr.ID] = tr
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
		id := m.order[0]
		m.order = m.order[1:]
		tr, ok := m.pending[id]
		if !ok {
			continue
		}
		delete(m.pending, id)
		m.sent[id] = tr.Up
		return tr, true
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
