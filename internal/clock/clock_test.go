package clock

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/havsd/havsd/test/poll"
)

var t0 = time.Now()

// fired reports the time t delivered, if any, without waiting.
func fired(t Timer) (time.Time, bool) {
	select {
	case at := <-t.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestFakeFiresInDeadlineOrder(t *testing.T) {
	f := NewFake(t0)
	late := f.NewTimer(3 * time.Second)
	early := f.NewTimer(time.Second)
	if got := f.Pending(); got != 2 {
		t.Fatalf("Pending = %d, want 2", got)
	}
	f.Advance(999 * time.Millisecond)
	if _, ok := fired(early); ok {
		t.Fatal("timer fired before its deadline")
	}
	f.Advance(5 * time.Second)
	for _, c := range []struct {
		name string
		tm   Timer
		want time.Duration
	}{{"early", early, time.Second}, {"late", late, 3 * time.Second}} {
		at, ok := fired(c.tm)
		if !ok || at.Sub(t0) != c.want {
			t.Errorf("%s fired=%v at +%v, want +%v", c.name, ok, at.Sub(t0), c.want)
		}
	}
	if got := f.Now().Sub(t0); got != 5999*time.Millisecond {
		t.Errorf("Now = t0+%v, want t0+5.999s", got)
	}
	if f.Pending() != 0 || f.AdvanceToNext() {
		t.Error("fired timers still pending")
	}
}

func TestFakeStopAndResetLeaveNoStaleTime(t *testing.T) {
	reset := func(d time.Duration) func(Timer) bool { return func(t Timer) bool { return t.Reset(d) } }
	tests := []struct {
		name    string
		before  time.Duration // advance before acting; >= 1s fires the timer unread
		act     func(Timer) bool
		want    bool          // return value of act
		firesAt time.Duration // from t0; 0: never
	}{
		{"stop armed", 500 * time.Millisecond, Timer.Stop, true, 0},
		{"reset armed", 500 * time.Millisecond, reset(4 * time.Second), true, 4500 * time.Millisecond},
		{"stop fired unread", time.Second, Timer.Stop, false, 0},
		{"reset fired unread", time.Second, reset(2 * time.Second), false, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFake(t0)
			tm := f.NewTimer(time.Second)
			f.Advance(tc.before)
			if got := tc.act(tm); got != tc.want {
				t.Errorf("returned %v, want %v", got, tc.want)
			}
			if at, ok := fired(tm); ok {
				t.Fatalf("stale time t0+%v received after the call", at.Sub(t0))
			}
			if tc.firesAt == 0 {
				if f.AdvanceToNext() {
					t.Error("stopped timer still armed")
				}
				return
			}
			if !f.AdvanceToNext() {
				t.Fatal("reset timer not armed")
			}
			if at, ok := fired(tm); !ok || at.Sub(t0) != tc.firesAt {
				t.Errorf("fired=%v at t0+%v, want t0+%v", ok, at.Sub(t0), tc.firesAt)
			}
		})
	}
}

func TestFakeZeroDurationFiresAtOnce(t *testing.T) {
	f := NewFake(t0)
	if _, ok := fired(f.NewTimer(0)); !ok {
		t.Error("NewTimer(0) did not fire")
	}
	if f.Pending() != 0 {
		t.Error("NewTimer(0) left a timer armed")
	}
}

func TestSleep(t *testing.T) {
	t.Run("elapses on the fake", func(t *testing.T) {
		f := NewFake(t0)
		done := make(chan error, 1)
		go func() { done <- Sleep(context.Background(), f, time.Minute) }()
		waitPending(t, f, 1)
		f.Advance(time.Minute)
		if err := <-done; err != nil {
			t.Errorf("Sleep = %v, want nil", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		f := NewFake(t0)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Sleep(ctx, f, time.Minute) }()
		waitPending(t, f, 1)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep = %v, want context.Canceled", err)
		}
		if f.Pending() != 0 {
			t.Error("Sleep left its timer armed")
		}
	})
	t.Run("non-positive on a done context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := Sleep(ctx, Real{}, 0); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep = %v, want context.Canceled", err)
		}
		if err := Sleep(context.Background(), Real{}, -1); err != nil {
			t.Errorf("Sleep = %v, want nil", err)
		}
	})
	t.Run("real clock", func(t *testing.T) {
		c := Real{}
		start := c.Now()
		if err := Sleep(context.Background(), c, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if c.Now().Sub(start) < time.Millisecond {
			t.Error("Sleep returned before d elapsed")
		}
	})
}

func TestOrReal(t *testing.T) {
	if _, ok := OrReal(nil).(Real); !ok {
		t.Error("OrReal(nil) is not Real")
	}
	f := NewFake(t0)
	if OrReal(f) != Clock(f) {
		t.Error("OrReal(f) is not f")
	}
}

// waitPending waits (on the real clock) until n timers are armed on f.
func waitPending(t *testing.T, f *Fake, n int) {
	t.Helper()
	poll.Until(t, 5*time.Second, "armed timers", func() bool { return f.Pending() >= n })
}
