package clock

import (
	"sync"
	"time"
)

// Fake is a manual Clock for tests: time moves only when Advance is called,
// which fires the timers that fall due in the order of their deadlines. It
// is safe for concurrent use.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer // armed timers
}

// NewFake returns a Fake whose time starts at start. A start taken from
// time.Now() keeps a monotonic reading through every later time.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires when the fake reaches now+d; with
// d <= 0 it has fired already.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.arm(t, d)
	return t
}

// Advance moves the time forward by d, firing every timer due by then.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := f.now.Add(d)
	for {
		t := f.nextLocked()
		if t == nil || t.at.After(end) {
			break
		}
		f.now = t.at
		f.fireLocked(t)
	}
	f.now = end
}

// AdvanceToNext moves the time to the earliest armed timer's deadline and
// fires it (and any others due then). It reports false, leaving the time
// unchanged, when no timer is armed.
func (f *Fake) AdvanceToNext() bool {
	f.mu.Lock()
	t := f.nextLocked()
	f.mu.Unlock()
	if t == nil {
		return false
	}
	f.Advance(t.at.Sub(f.Now()))
	return true
}

// Pending returns the number of armed timers. A test waits for it to grow
// to know that a goroutine is blocked on the clock before advancing it.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

func (f *Fake) arm(t *fakeTimer, d time.Duration) {
	t.at = f.now.Add(d)
	if d <= 0 {
		t.send(f.now)
		return
	}
	t.armed = true
	f.timers = append(f.timers, t)
}

func (f *Fake) disarm(t *fakeTimer) bool {
	if !t.armed {
		return false
	}
	t.armed = false
	for i, o := range f.timers {
		if o == t {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			break
		}
	}
	return true
}

// nextLocked returns the armed timer with the earliest deadline; among
// equal deadlines, the one armed first.
func (f *Fake) nextLocked() *fakeTimer {
	var next *fakeTimer
	for _, t := range f.timers {
		if next == nil || t.at.Before(next.at) {
			next = t
		}
	}
	return next
}

func (f *Fake) fireLocked(t *fakeTimer) {
	f.disarm(t)
	t.send(f.now)
}

type fakeTimer struct {
	f     *Fake
	c     chan time.Time
	at    time.Time
	armed bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.f.disarm(t)
	t.drain()
	t.f.arm(t, d)
	return was
}

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.f.disarm(t)
	t.drain()
	return was
}

// send delivers now without blocking; the channel holds at most one time.
func (t *fakeTimer) send(now time.Time) {
	select {
	case t.c <- now:
	default:
	}
}

// drain drops an undelivered time, as Stop and Reset do for runtime timers.
func (t *fakeTimer) drain() {
	select {
	case <-t.c:
	default:
	}
}
