package checks

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/havsd/havsd/test/poll"
)

// levels records the level of each "backend state changed" record.
type levels struct {
	mu  sync.Mutex
	got []string
}

func (l *levels) Enabled(context.Context, slog.Level) bool { return true }
func (l *levels) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *levels) WithGroup(string) slog.Handler            { return l }
func (l *levels) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "backend state changed" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "state" {
				l.mu.Lock()
				l.got = append(l.got, a.Value.String()+" "+r.Level.String())
				l.mu.Unlock()
			}
			return true
		})
	}
	return nil
}

// TestTransitionLogLevels: a backend going down is a warning, coming back
// is information.
func TestTransitionLogLevels(t *testing.T) {
	noLeaks(t)
	var fail atomic.Bool
	fail.Store(true)
	rec := &levels{}
	s := NewScheduler(Options{Logger: slog.New(rec), New: func(Spec) (Checker, error) {
		return CheckerFunc(func(context.Context) error {
			if fail.Load() {
				return context.DeadlineExceeded
			}
			return nil
		}), nil
	}})
	s.Set(map[ID][]Spec{"x": {fakeSpec("x", 10*time.Millisecond)}})
	startScheduler(t, s)
	await(t, s, "x", false, 5*time.Second)
	fail.Store(false)
	await(t, s, "x", true, 5*time.Second)
	// The scheduler logs a transition just after handing it over, so
	// the record of the last one may follow await by a moment.
	poll.Until(t, 5*time.Second, "two transition records", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.got) >= 2
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 2 || rec.got[0] != "down WARN" || rec.got[1] != "up INFO" {
		t.Errorf("transition records = %q, want [down WARN, up INFO]", rec.got)
	}
}
