// Package logsink keeps a slow log reader from stalling the daemon.
//
// slog handlers write each record with one Write call on the goroutine that
// logs, and the VRRP loops log their transitions themselves. When the log's
// reader falls behind (journald busy, a full pipe, writeback throttling a
// file on a loaded host), that Write blocks, and a backup whose loop is stuck
// in it misses its takeover deadline. A Sink takes each line into a bounded
// queue and returns at once; one goroutine writes the queue out. Lines that
// find the queue full are dropped and counted, and the writer says how many
// it dropped once the reader keeps up again: a log with a hole that says so,
// rather than a director that stops answering.
package logsink

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultLines is the queue's length in lines.
const DefaultLines = 4096

// Sink is an io.Writer that queues whole writes for one writer goroutine.
type Sink struct {
	w       io.Writer
	q       chan []byte
	pool    sync.Pool
	dropped atomic.Uint64 // in all, for metrics
	pending atomic.Uint64 // dropped since the last notice
	closeMu sync.RWMutex  // Write holds it shared, Close exclusively
	closed  bool
	done    chan struct{}
}

// New starts a Sink writing to w with a queue of lines writes (DefaultLines
// when lines <= 0).
func New(w io.Writer, lines int) *Sink {
	if lines <= 0 {
		lines = DefaultLines
	}
	s := &Sink{w: w, q: make(chan []byte, lines), done: make(chan struct{})}
	go s.run()
	return s
}

// Write queues a copy of p and never blocks on the underlying writer. A
// write that finds the queue full, or the sink closed, is dropped and
// counted; it still reports success, as a logger has nothing better to do.
func (s *Sink) Write(p []byte) (int, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		s.drop()
		return len(p), nil
	}
	b, _ := s.pool.Get().(*[]byte)
	if b == nil {
		b = new([]byte)
	}
	*b = append((*b)[:0], p...)
	select {
	case s.q <- *b:
	default:
		s.pool.Put(b)
		s.drop()
	}
	return len(p), nil
}

func (s *Sink) drop() {
	s.dropped.Add(1)
	s.pending.Add(1)
}

// Dropped is how many writes were dropped since the sink started.
func (s *Sink) Dropped() uint64 { return s.dropped.Load() }

func (s *Sink) run() {
	defer close(s.done)
	for line := range s.q {
		if n := s.pending.Swap(0); n > 0 {
			fmt.Fprintf(s.w, "havsd: %d log line(s) dropped: the log's reader did not keep up\n", n)
		}
		_, _ = s.w.Write(line)
		if cap(line) <= 64<<10 { // a huge line's buffer is not kept
			s.pool.Put(&line)
		}
	}
	if n := s.pending.Swap(0); n > 0 {
		fmt.Fprintf(s.w, "havsd: %d log line(s) dropped: the log's reader did not keep up\n", n)
	}
}

// Close stops taking lines and writes out those queued, waiting at most
// wait for the underlying writer; it reports whether all were written.
func (s *Sink) Close(wait time.Duration) bool {
	s.closeMu.Lock()
	if !s.closed {
		s.closed = true
		close(s.q)
	}
	s.closeMu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-s.done:
		return true
	case <-t.C:
		return false
	}
}
