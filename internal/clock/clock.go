package clock

import (
	"context"
	"time"
)

// Clock supplies the current time and one-shot timers.
type Clock interface {
	// Now returns the current time; only differences between two results
	// are meaningful.
	Now() time.Time
	// NewTimer returns a timer that fires once after d (at once if d <= 0).
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock. It behaves like *time.Timer since
// Go 1.23: after Stop or Reset returns, no stale time is received from C.
type Timer interface {
	// C delivers the time at which the timer fired.
	C() <-chan time.Time
	// Reset re-arms the timer to fire after d, reporting whether it was
	// still armed.
	Reset(d time.Duration) bool
	// Stop disarms the timer, reporting whether it was still armed.
	Stop() bool
}

// Real is the runtime's clock.
type Real struct{}

// Now returns time.Now(), which carries a monotonic reading.
func (Real) Now() time.Time { return time.Now() }

// NewTimer returns a runtime timer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
func (t realTimer) Stop() bool                 { return t.t.Stop() }

// OrReal returns c, or Real when c is nil: constructors use it for an
// optional Clock field.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}

// Sleep waits for d on c or until ctx is done. It returns nil when d
// elapsed and ctx.Err() otherwise; with d <= 0 it returns ctx.Err() at once.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
