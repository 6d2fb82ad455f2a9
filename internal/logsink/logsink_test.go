package logsink

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// gate is a writer that blocks until opened, like a pipe nobody reads.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (g *gate) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *gate) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.String()
}

// A blocked reader never blocks the writer: the writes beyond the queue are
// dropped, counted, and reported once the reader keeps up.
func TestBlockedReaderNeverBlocksWrites(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	s := New(g, 8)
	finished := make(chan struct{})
	go func() {
		for i := range 100 {
			fmt.Fprintf(s, "line %d\n", i)
		}
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("writes blocked on a reader that does not read")
	}
	// The writer goroutine holds at most one line, the queue 8: at least
	// 91 of the 100 were dropped.
	if d := s.Dropped(); d < 91 || d > 92 {
		t.Fatalf("dropped %d lines, want 91 or 92", d)
	}
	close(g.open)
	if !s.Close(10 * time.Second) {
		t.Fatal("queued lines not written after the reader resumed")
	}
	out := g.String()
	if !strings.Contains(out, "line 0\n") {
		t.Errorf("the first line is missing:\n%s", out)
	}
	if !strings.Contains(out, "log line(s) dropped") {
		t.Errorf("no notice of the dropped lines:\n%s", out)
	}
	if n := strings.Count(out, "line "); n < 8 || n > 10 {
		t.Errorf("%d lines written, want the 8 or 9 kept (and the notice):\n%s", n, out)
	}
}

// With a reader that keeps up, every line arrives whole and in order.
func TestLinesInOrder(t *testing.T) {
	var b bytes.Buffer
	s := New(&b, 0)
	var want strings.Builder
	for i := range 1000 {
		line := fmt.Sprintf("msg=%d %s\n", i, strings.Repeat("x", i%50))
		want.WriteString(line)
		if _, err := s.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if !s.Close(10 * time.Second) {
		t.Fatal("close timed out")
	}
	if s.Dropped() != 0 {
		t.Fatalf("dropped %d with a reader that keeps up", s.Dropped())
	}
	if b.String() != want.String() {
		t.Fatal("lines reordered or changed")
	}
}

// The caller's buffer may be reused at once (slog does): the sink copies.
func TestWriteCopies(t *testing.T) {
	var b bytes.Buffer
	s := New(&b, 4)
	p := []byte("first\n")
	_, _ = s.Write(p)
	copy(p, "XXXXX\n")
	s.Close(10 * time.Second)
	if b.String() != "first\n" {
		t.Fatalf("got %q", b.String())
	}
}

// A write after Close is dropped and counted, never a panic.
func TestWriteAfterClose(t *testing.T) {
	var b bytes.Buffer
	s := New(&b, 4)
	s.Close(time.Second)
	if _, err := s.Write([]byte("late\n")); err != nil {
		t.Fatal(err)
	}
	if s.Dropped() != 1 {
		t.Fatalf("dropped %d, want 1", s.Dropped())
	}
}
