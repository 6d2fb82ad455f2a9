package checks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// ID names one checked target (a real server of a service), for example
// "tcp 10.0.0.1:80/192.168.0.10:80". The daemon chooses the format.
type ID string

// Transition reports that a target went up or down.
type Transition struct {
	ID     ID
	Up     bool
	Reason string // the failing check's error, or which checks passed
	At     time.Time
}

// Health is a target's current state as Status reports it.
type Health struct {
	Up        bool
	LastError string    // first failing check's last error; "" when all pass
	LastCheck time.Time // most recent check completion of any of its checks
	Latency   time.Duration
	Checks    []CheckHealth // one per spec, in the order given to Set
}

// CheckHealth is the state of one check of a target.
type CheckHealth struct {
	Kind                 Kind
	Up                   bool
	LastError            string
	LastCheck            time.Time
	Latency              time.Duration
	ConsecutiveFailures  int
	ConsecutiveSuccesses int
}

// Clock abstracts time for tests.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the scheduler uses.
type Timer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

// Options configure a Scheduler. Every field is optional.
type Options struct {
	// Logger receives one Info line per transition; nil discards.
	Logger *slog.Logger
	// Clock supplies time and the run loop's timer; nil is the real clock.
	Clock Clock
	// Rand returns a uniform value in [0, n); it draws warm-up delays.
	Rand func(n int64) int64
	// New builds checkers; nil means the package's New.
	New func(Spec) (Checker, error)
	// OnResult, if set, is called after every check (for metrics). It runs
	// on the check's goroutine and must not block.
	OnResult func(id ID, kind Kind, latency time.Duration, err error)
	// Slack lets the run loop start checks up to this early so that it
	// wakes once for a batch rather than once per check. Zero means 2ms.
	Slack time.Duration
	// MaxInFlight bounds the checks running at once (each holds a
	// goroutine, and a connection for network checks); due checks beyond
	// it wait their turn. Zero means DefaultMaxInFlight; negative, no
	// bound. The bound trades detection time when very many targets time
	// out together (at most MaxInFlight/Timeout checks per second then) for
	// graceful degradation when the director runs short of CPU: measured
	// with 10,000 HTTP checks on a starved 2-core machine, no bound let
	// every check time out and mark most servers down falsely, while a
	// bound of 256 or 1024 gave 0 to 3 false downs and a stretched interval.
	MaxInFlight int
}

// DefaultMaxInFlight is the bound on running checks when Options leaves it 0.
const DefaultMaxInFlight = 1024

// Stats are cumulative counters of a scheduler.
type Stats struct {
	Checks, Failures, Panics, Transitions uint64
}

// Scheduler runs checks on their intervals with keepalived's semantics and
// emits transitions only. Set, Status and Transitions may be called from any
// goroutine, before or during Run.
//
// Concurrency: one run loop keeps a heap of due checks and starts each due
// check on a goroutine of its own that ends with the check, so a slow or
// hung target never delays another, and an idle target holds no goroutine.
// At most one check per (target, spec) runs at a time, so goroutines are
// bounded by the number of checks and by Options.MaxInFlight. A
// pool of reusable workers measured no better (the runtime already reuses
// dead goroutines), so there is none.
type Scheduler struct {
	opts  Options
	log   *slog.Logger
	clock Clock

	mu  sync.Mutex // guards eng
	eng *engine

	wake    chan struct{} // buffered(1): re-arm the loop
	mail    *mailbox
	out     chan Transition
	running atomic.Bool
	stats   struct{ checks, failures, panics, transitions atomic.Uint64 }
}

// NewScheduler returns an idle scheduler; Run starts it.
func NewScheduler(opts Options) *Scheduler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Int64N
	}
	if opts.New == nil {
		opts.New = New
	}
	if opts.Slack <= 0 {
		opts.Slack = 2 * time.Millisecond
	}
	switch {
	case opts.MaxInFlight == 0:
		opts.MaxInFlight = DefaultMaxInFlight
	case opts.MaxInFlight < 0:
		opts.MaxInFlight = 0 // the engine's "no bound"
	}
	return &Scheduler{
		opts:  opts,
		log:   opts.Logger.With("component", "checks"),
		clock: opts.Clock,
		eng:   newEngine(opts.Rand, opts.New, opts.MaxInFlight),
		wake:  make(chan struct{}, 1),
		mail:  newMailbox(),
		out:   make(chan Transition),
	}
}

// Set replaces the checked targets (a reload). An ID whose specs are equal
// keeps its state and timers; an ID whose specs changed restarts its checks
// but keeps its up/down state until the new checks prove otherwise; a new ID
// starts as InitialUp says (no transition is emitted for that initial
// state); a removed ID stops and its pending transition is dropped.
func (s *Scheduler) Set(targets map[ID][]Spec) {
	s.mu.Lock()
	r := s.eng.set(s.clock.Now(), targets)
	for _, id := range r.added {
		s.mail.reset(id, s.eng.targets[id].up)
	}
	for _, id := range r.removed {
		s.mail.forget(id)
	}
	s.mu.Unlock()
	for id, err := range r.buildErrs {
		s.log.Error("building check", "backend", string(id), "err", err)
	}
	s.log.Debug("targets set", "added", len(r.added), "changed", len(r.changed), "removed", len(r.removed))
	s.signal()
}

// Transitions returns the channel of transitions. It is unbuffered and
// coalescing: while the consumer is slow, only the latest state per ID is
// kept (in order of first change), and a state that returns to what the
// consumer last received is dropped, so checks never block and the
// consumer always converges to the current state. It is never closed.
func (s *Scheduler) Transitions() <-chan Transition { return s.out }

// Stats returns the cumulative counters.
func (s *Scheduler) Stats() Stats {
	return Stats{
		Checks: s.stats.checks.Load(), Failures: s.stats.failures.Load(),
		Panics: s.stats.panics.Load(), Transitions: s.stats.transitions.Load(),
	}
}

// Status returns the current health of every target.
func (s *Scheduler) Status() map[ID]Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[ID]Health, len(s.eng.targets))
	for id, t := range s.eng.targets {
		h := Health{Up: t.up, Checks: make([]CheckHealth, len(t.probes))}
		for i, p := range t.probes {
			c := CheckHealth{
				Kind: p.spec.Kind, Up: p.up, LastCheck: p.lastAt, Latency: p.latency,
				ConsecutiveFailures: p.fails, ConsecutiveSuccesses: p.succs,
			}
			if p.lastErr != nil {
				c.LastError = p.lastErr.Error()
				if h.LastError == "" {
					h.LastError = c.LastError
				}
			}
			if c.LastCheck.After(h.LastCheck) {
				h.LastCheck, h.Latency = c.LastCheck, c.Latency
			}
			h.Checks[i] = c
		}
		out[id] = h
	}
	return out
}

// Run runs checks until ctx is done, then cancels running checks, waits
// for their goroutines and returns nil. It returns an error if the
// scheduler is already running.
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("checks scheduler: already running")
	}
	defer s.running.Store(false)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { s.mail.deliver(ctx, s.out) })

	timer := s.clock.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := s.clock.Now()
		jobs := s.eng.due(now.Add(s.opts.Slack))
		for _, p := range jobs {
			// One cancel-only context per check, for reloads and
			// shutdown; each checker applies its spec's timeout (HTTP on
			// the socket, without a timer).
			pctx, cancel := context.WithCancel(ctx)
			p.cancel = cancel
			wg.Go(func() { s.runCheck(pctx, p); cancel() })
		}
		next, ok := s.eng.nextDue()
		s.mu.Unlock()
		if ok {
			timer.Reset(max(next.Sub(now), 0))
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			s.cancelRunning()
			return nil
		case <-timer.C():
		case <-s.wake:
		}
	}
}

// cancelRunning cancels every running check; each puts its probe back in
// the queue, so that a later Run carries on.
func (s *Scheduler) cancelRunning() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.eng.targets {
		for _, p := range t.probes {
			if p.cancel != nil {
				p.cancel()
			}
		}
	}
}

// runCheck runs one check and feeds its result to the engine.
func (s *Scheduler) runCheck(ctx context.Context, p *probe) {
	id, kind := p.t.id, p.spec.Kind
	start := s.clock.Now()
	err := s.safeCheck(ctx, p, id)
	end := s.clock.Now()
	latency := end.Sub(start)
	if errors.Is(ctx.Err(), context.Canceled) {
		// Cancelled by a reload or shutdown: not a verdict on the server.
		s.mu.Lock()
		rearm := s.eng.requeue(p)
		s.mu.Unlock()
		if rearm {
			s.signal()
		}
		return
	}
	s.stats.checks.Add(1)
	if err != nil {
		s.stats.failures.Add(1)
	}
	s.mu.Lock()
	prevUp := p.t.up
	tr, rearm := s.eng.result(p, end, latency, err)
	if tr != nil {
		s.mail.put(*tr)
	}
	s.mu.Unlock()
	if tr != nil {
		s.stats.transitions.Add(1)
		s.log.Info("backend state changed", "backend", string(id),
			"old", upDown(prevUp), "state", upDown(tr.Up), "reason", tr.Reason)
	}
	if s.opts.OnResult != nil {
		s.opts.OnResult(id, kind, latency, err)
	}
	if rearm {
		s.signal()
	}
}

// safeCheck runs the checker and turns a panic into a failure.
func (s *Scheduler) safeCheck(ctx context.Context, p *probe, id ID) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.stats.panics.Add(1)
			s.log.Error("checker panicked", "backend", string(id), "kind", p.spec.Kind.String(),
				"err", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("%s checker panicked: %v", p.spec.Kind, r)
		}
	}()
	return p.checker.Check(ctx)
}

func (s *Scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

type realClock struct{}

func (realClock) Now() time.Time                 { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time   { return t.t.C }
func (t realTimer) Reset(d time.Duration) { t.t.Reset(d) }
func (t realTimer) Stop()                 { t.t.Stop() }
