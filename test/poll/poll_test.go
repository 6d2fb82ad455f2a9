package poll

import (
	"sync/atomic"
	"testing"
	"time"
)

// recorder captures a fatal failure instead of ending the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Fatalf(format string, args ...any) { r.failed = format }

func TestUntil(t *testing.T) {
	var n atomic.Int32
	r := &recorder{}
	Until(r, 5*time.Second, "three polls", func() bool { return n.Add(1) >= 3 })
	if r.failed != "" || n.Load() != 3 {
		t.Errorf("condition true on the third poll: failed %q after %d polls", r.failed, n.Load())
	}
	Until(r, 20*time.Millisecond, "never", func() bool { return false })
	if r.failed == "" {
		t.Error("a condition that never holds did not fail the test")
	}
}

func TestFor(t *testing.T) {
	if For(10*time.Millisecond, func() bool { return false }) {
		t.Error("For reported a condition that never held")
	}
	if !For(0, func() bool { return true }) {
		t.Error("For missed a condition that held at once")
	}
}

func TestBuffer(t *testing.T) {
	var b Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			_, _ = b.Write([]byte("x"))
		}
	}()
	Until(t, 5*time.Second, "100 bytes written", func() bool { return len(b.String()) == 100 })
	<-done
}

func TestHolds(t *testing.T) {
	if !Holds(20*time.Millisecond, func() bool { return true }) {
		t.Error("a condition that always holds did not")
	}
	var n atomic.Int32
	if Holds(5*time.Second, func() bool { return n.Add(1) < 3 }) {
		t.Error("a condition that failed on the third check held")
	}
}
