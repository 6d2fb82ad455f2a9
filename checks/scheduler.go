package checks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/havsd/havsd/internal/clock"
)

// ID names one checked target (a real server of a service), for example
// "tcp 10.0.0.1:80/192.168.0.10:80". The daemon chooses the format.
type ID string

// Transition reports that a target went up or down, or that its checks
// changed its weight while up.
type Transition struct {
	ID     ID
	Up     bool
	Weight Weight // what the checks do to the weight (weight.go)
	Reason string // the failing check's error, or which checks passed
	At     time.Time
}

// Health is a target's current state as Status reports it.
type Health struct {
	Up        bool
	Weight    Weight    // what the checks do to the weight
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
	// Interval is the configured interval; EffectiveInterval the time
	// between the latest two starts of the check, longer than Interval when
	// the director cannot keep up (zero before the second check).
	Interval, EffectiveInterval time.Duration
	// SharedBy is the number of targets whose identical check this is: it
	// runs once and its result counts for all of them.
	SharedBy int
}

// Options configure a Scheduler. Every field is optional.
type Options struct {
	// Logger receives one Info line per transition; nil discards.
	Logger *slog.Logger
	// Clock supplies time and the run loop's timer; nil is the real clock.
	Clock clock.Clock
	// Rand returns a uniform value in [0, n); it draws warm-up delays.
	Rand func(n int64) int64
	// New builds checkers; nil means the package's own, which share what
	// identical settings build (New builds one alone).
	New func(Spec) (Checker, error)
	// OnResult, if set, is called after every check (for metrics) with
	// one of the targets the check serves (identical checks run once). It
	// runs on the check's goroutine and must not block. A result discarded
	// because the checker stalled is not reported.
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
	// The bound in force halves after each stall of the checker and
	// doubles back to this one (Stats.InFlightLimit).
	MaxInFlight int
	// EventLoop runs TCP connect and status-only HTTP checks on one epoll
	// loop instead of a goroutine each. Off by default: in the qemu VM at
	// 300 checks/s it cost about 20 % less CPU per check (3.6 ms against
	// 4.5-5.8 ms) but, starting every check on time on a saturated CPU,
	// let 8 of 300 servers be declared down where the goroutine path, whose
	// stalls throttle it, kept all up.
	EventLoop bool
}

// DefaultMaxInFlight is the bound on running checks when Options leaves it 0.
const DefaultMaxInFlight = 1024

// Stats are a scheduler's cumulative counters and current load.
type Stats struct {
	Checks, Failures, Panics, Transitions uint64
	// Stalls counts the times the checker found itself stalled (its own
	// timers late by StallThreshold or more: descheduled, paused, short of
	// CPU); StallRetries the check results discarded and retried because
	// the check timed out while such a stall overlapped it.
	Stalls, StallRetries uint64
	// Targets is the number of IDs; Probes the number of distinct checks
	// run for them (identical checks of one server run once).
	Targets, Probes int
	// InFlight is the number of checks running; StartLag how late the
	// latest due check started (queued behind MaxInFlight or a busy
	// director): the amount by which the effective interval exceeds the
	// configured one.
	InFlight int
	StartLag time.Duration
	// InFlightLimit is the bound on running checks now: MaxInFlight,
	// halved after each stall and doubled again after as many results
	// without one (0: no bound).
	InFlightLimit int
}

// Scheduler runs checks on their intervals with keepalived's semantics and
// emits transitions only. Set, Status and Transitions may be called from any
// goroutine, before or during Run.
//
// Concurrency: one run loop keeps a heap of due checks and starts each due
// check on a goroutine of its own that ends with the check, so a slow or
// hung target never delays another, and an idle target holds no goroutine.
// At most one check per probe (identical checks share one) runs at a time,
// so goroutines are bounded by the number of probes and by
// Options.MaxInFlight. A
// pool of reusable workers measured no better (the runtime already reuses
// dead goroutines), so there is none.
type Scheduler struct {
	opts  Options
	log   *slog.Logger
	clock clock.Clock

	mu  sync.Mutex // guards eng
	eng *engine

	wake    chan struct{} // buffered(1): re-arm the loop
	mail    *mailbox
	out     chan Transition
	running atomic.Bool
	stats   struct{ checks, failures, panics, transitions, stallRetries atomic.Uint64 }
	stalls  stallLog
}

// NewScheduler returns an idle scheduler; Run starts it.
func NewScheduler(opts Options) *Scheduler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Clock = clock.OrReal(opts.Clock)
	if opts.Rand == nil {
		opts.Rand = rand.Int64N
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
		t := s.eng.targets[id]
		s.mail.reset(&t.sent, id, t.up)
	}
	for _, id := range r.removed {
		s.mail.forget(id)
	}
	for _, tr := range r.transitions {
		s.mail.put(tr, s.eng.sentOf(tr.ID))
	}
	s.mu.Unlock()
	for _, tr := range r.transitions {
		s.stats.transitions.Add(1)
		s.logTransition(tr)
	}
	for id, err := range r.buildErrs {
		s.log.Error("building check", "backend", string(id), "err", err)
	}
	s.log.Debug("targets set", "added", len(r.added), "changed", len(r.changed), "removed", len(r.removed))
	s.signal()
}

// logTransition logs a backend going down at warning level, coming up at
// info: the operator's eye goes to the first.
func (s *Scheduler) logTransition(tr Transition) {
	level := slog.LevelInfo
	if !tr.Up {
		level = slog.LevelWarn
	}
	s.log.Log(context.Background(), level, "backend state changed", "backend", string(tr.ID),
		"old", upDown(!tr.Up), "state", upDown(tr.Up), "reason", tr.Reason)
}

// Transitions returns the channel of transitions. It is unbuffered and
// coalescing: while the consumer is slow, only the latest state per ID is
// kept (in order of first change), and a state that returns to what the
// consumer last received is dropped, so checks never block and the
// consumer always converges to the current state. It is never closed.
func (s *Scheduler) Transitions() <-chan Transition { return s.out }

// Stats returns the cumulative counters and the current load.
func (s *Scheduler) Stats() Stats {
	st := Stats{
		Checks: s.stats.checks.Load(), Failures: s.stats.failures.Load(),
		Panics: s.stats.panics.Load(), Transitions: s.stats.transitions.Load(),
		Stalls: s.stalls.count(), StallRetries: s.stats.stallRetries.Load(),
	}
	s.mu.Lock()
	st.Targets, st.Probes = len(s.eng.targets), len(s.eng.probes)
	st.InFlight, st.StartLag = s.eng.inflight, s.eng.lag
	st.InFlightLimit = s.eng.limit
	if st.InFlightLimit >= unbounded {
		st.InFlightLimit = 0
	}
	s.mu.Unlock()
	return st
}

// Status returns the current health of every target.
func (s *Scheduler) Status() map[ID]Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[ID]Health, len(s.eng.targets))
	for id, t := range s.eng.targets {
		h := Health{Up: t.up, Weight: t.weight, Checks: make([]CheckHealth, len(t.probes))}
		for i, p := range t.probes {
			c := CheckHealth{
				Kind: p.kind(), Up: p.up, LastCheck: p.lastAt, Latency: p.latency,
				ConsecutiveFailures: int(p.fails), ConsecutiveSuccesses: int(p.succs),
				Interval: p.shape.spec.Interval, EffectiveInterval: p.period, SharedBy: len(p.users),
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
//
// While checks are in flight the loop wakes at least every Heartbeat and
// measures how late it woke: a wake-up late by StallThreshold or more is
// a stall of the checker itself (descheduled, paused, short of CPU),
// recorded so that checks that timed out across it are retried instead of
// failed.
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

	// With Options.EventLoop, plain TCP and status-only HTTP checks run on
	// an epoll loop; the others, and all of them by default, on a
	// goroutine each.
	var ev *evLoop
	if s.opts.EventLoop {
		var err error
		ev, err = newEvLoop(func(c *evConn, err error, cancelled bool) {
			s.complete(c.p, c.start, s.clock.Now(), err, cancelled)
		})
		if err != nil {
			s.log.Warn("checks run on goroutines only", "err", err)
			ev = nil
		} else {
			wg.Go(ev.run)
		}
	}
	timer := s.clock.NewTimer(time.Hour)
	defer timer.Stop()
	var armedFor time.Time // when the timer is due; zero when stopped
	var launch []*probe    // due checks to start on goroutines
	for {
		s.mu.Lock()
		now := s.clock.Now()
		if !armedFor.IsZero() && now.Sub(armedFor) >= StallThreshold && s.stalled(armedFor, now, s.eng.inflight) {
			s.eng.backOff()
		}
		jobs := s.eng.due(now.Add(s.opts.Slack), now)
		launch = launch[:0]
		for _, p := range jobs {
			if ev != nil && p.ev {
				job, _ := evJobOf(p.checker)
				ev.submit(p, job)
				continue
			}
			launch = append(launch, p)
		}
		next, ok := s.eng.nextDue()
		if s.eng.inflight > 0 && (!ok || next.Sub(now) > Heartbeat) {
			next, ok = now.Add(Heartbeat), true
		}
		s.mu.Unlock()
		// Each check makes its own context on its goroutine (runCheck),
		// which takes the lock once: started after the loop let go of
		// it, a batch of checks does not queue on it.
		for _, p := range launch {
			wg.Go(func() { s.runCheck(ctx, p) })
		}
		clear(launch)
		if ok {
			d := max(next.Sub(now), 0)
			timer.Reset(d)
			armedFor = now.Add(d)
		} else {
			timer.Stop()
			armedFor = time.Time{}
		}
		select {
		case <-ctx.Done():
			s.cancelRunning()
			if ev != nil {
				ev.close()
			}
			return nil
		case <-timer.C():
		case <-s.wake:
		}
	}
}

// Stall detection.
const (
	// Heartbeat is the longest the run loop sleeps while checks run.
	Heartbeat = 100 * time.Millisecond
	// StallThreshold is the least lateness recorded as a stall.
	StallThreshold = 50 * time.Millisecond
	// stallFraction: a check that timed out is retried when a stall of
	// at least its Timeout/stallFraction overlapped it.
	stallFraction = 4
)

// stalled records that the checker did not run during [from, to], and
// logs it when it is a new stall (not overlapping the latest one), which
// it reports.
func (s *Scheduler) stalled(from, to time.Time, inFlight int) bool {
	if !s.stalls.record(from, to) {
		return false
	}
	s.log.Warn("checker stalled: checks that timed out meanwhile are retried, not failed",
		"stalled", to.Sub(from).Round(time.Millisecond), "in_flight", inFlight)
	return true
}

// cancelRunning cancels every running check of this Run; each puts its
// probe back in the queue, so that a later Run carries on.
func (s *Scheduler) cancelRunning() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.eng.probes {
		if p.cancel != nil {
			p.cancel()
			p.cancel = nil
		}
	}
}

// runCheck runs one check under a context of its own within the Run's
// runCtx and feeds its result to the engine. A timeout across a stall of
// the checker is discarded and the check retried at once: it says nothing
// about the server.
func (s *Scheduler) runCheck(runCtx context.Context, p *probe) {
	ctx, cancel := checkContext(runCtx, p)
	s.mu.Lock()
	if p.removed {
		cancel() // removed before its check started
	} else {
		p.cancel = cancel // for a removal or shutdown meanwhile
	}
	s.mu.Unlock()
	start := s.clock.Now()
	dw, err := s.safeCheck(ctx, p)
	cancelled := errors.Is(ctx.Err(), context.Canceled)
	cancel() // releases the context from the Run's
	s.completeWeight(p, start, s.clock.Now(), err, cancelled, dw)
}

// checkContext returns the context of one check of p, made on the check's
// goroutine right before it starts: a removal or shutdown cancels it and,
// for the checkers of this package that bound themselves by a timeout
// context (withTimeout), it already carries that timeout, so that they
// make no second context within it (a context nested in a per-check one
// costs a map per check). HTTP checks put their timeout on the socket,
// without a timer, and other checkers keep to their own.
func checkContext(ctx context.Context, p *probe) (context.Context, context.CancelFunc) {
	switch p.checker.(type) {
	case *tcpProbe, *tcpChecker, *udpChecker, *dnsChecker, *pingChecker, *smtpChecker, *scriptChecker:
		return context.WithTimeout(ctx, p.shape.spec.Timeout)
	}
	return context.WithCancel(ctx)
}

// dynWeight is the weight a passing check asked for (Weigher).
type dynWeight struct {
	w   int
	set bool
}

// complete feeds the result of a check that ran from start to end to the
// engine; cancelled says it was cut short by a removal or shutdown.
func (s *Scheduler) complete(p *probe, start, end time.Time, err error, cancelled bool) {
	s.completeWeight(p, start, end, err, cancelled, dynWeight{})
}

// completeWeight is complete with the weight a Weigher asked for.
func (s *Scheduler) completeWeight(p *probe, start, end time.Time, err error, cancelled bool, dw dynWeight) {
	latency := end.Sub(start)
	if cancelled {
		// Cancelled by a reload or shutdown: not a verdict on the server.
		s.mu.Lock()
		rearm := s.eng.requeue(p)
		s.mu.Unlock()
		if rearm {
			s.signal()
		}
		return
	}
	timeout := p.shape.spec.Timeout
	if err != nil && errors.Is(err, ErrTimeout) {
		// The deadline fired late: this process did not run meanwhile.
		if late := latency - timeout; late >= max(StallThreshold, timeout/stallFraction) {
			s.mu.Lock()
			if s.stalled(start.Add(timeout), end, s.eng.inflight) {
				s.eng.backOff()
			}
			s.mu.Unlock()
		}
		if s.stalls.within(start, end) >= timeout/stallFraction {
			s.mu.Lock()
			ok, rearm := s.eng.discard(p, end)
			s.mu.Unlock()
			if ok {
				s.stats.stallRetries.Add(1)
				if rearm {
					s.signal()
				}
				return
			}
		}
	}
	s.stats.checks.Add(1)
	if err != nil {
		s.stats.failures.Add(1)
	}
	s.mu.Lock()
	var id ID
	if len(p.users) > 0 {
		id = p.users[0].id
	}
	s.eng.grow()
	trs, rearm := s.eng.result(p, end, latency, err, dw)
	for _, tr := range trs {
		s.mail.put(tr, s.eng.sentOf(tr.ID))
	}
	s.mu.Unlock()
	for _, tr := range trs {
		s.stats.transitions.Add(1)
		s.logTransition(tr)
	}
	if s.opts.OnResult != nil {
		s.opts.OnResult(id, p.kind(), latency, err)
	}
	if rearm {
		s.signal()
	}
}

// safeCheck runs the checker and turns a panic into a failure.
func (s *Scheduler) safeCheck(ctx context.Context, p *probe) (dw dynWeight, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.stats.panics.Add(1)
			s.log.Error("checker panicked", "check", p.String(), "kind", p.kind().String(),
				"err", fmt.Sprint(r), "stack", string(debug.Stack()))
			dw, err = dynWeight{}, fmt.Errorf("%s checker panicked: %v", p.kind(), r)
		}
	}()
	if w, ok := p.checker.(Weigher); ok {
		dw.w, dw.set, err = w.CheckWeight(ctx)
		return dw, err
	}
	return dw, p.checker.Check(ctx)
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

// stallLog keeps the latest stalls of the checker, for the checks that
// were in flight during one of them.
type stallLog struct {
	mu   sync.Mutex
	ring [64]stallWindow
	next int    // next slot to write
	n    uint64 // distinct stalls recorded
}

type stallWindow struct{ from, to time.Time }

// record adds [from, to] and reports whether it is a new stall, rather
// than another view of the latest one.
func (l *stallLog) record(from, to time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	last := l.ring[(l.next+len(l.ring)-1)%len(l.ring)]
	fresh := last.to.IsZero() || from.After(last.to) || to.Before(last.from)
	l.ring[l.next] = stallWindow{from, to}
	l.next = (l.next + 1) % len(l.ring)
	if fresh {
		l.n++
	}
	return fresh
}

// within returns how much of [from, to] the recorded stalls cover.
func (l *stallLog) within(from, to time.Time) time.Duration {
	l.mu.Lock()
	var parts []stallWindow
	for _, w := range l.ring {
		if !w.to.IsZero() && w.from.Before(to) && w.to.After(from) {
			parts = append(parts, stallWindow{maxTime(w.from, from), minTime(w.to, to)})
		}
	}
	l.mu.Unlock()
	slices.SortFunc(parts, func(a, b stallWindow) int { return a.from.Compare(b.from) })
	var total time.Duration
	var end time.Time // of the union so far
	for _, w := range parts {
		if w.from.Before(end) {
			w.from = end
		}
		if w.to.After(w.from) {
			total += w.to.Sub(w.from)
			end = w.to
		}
	}
	return total
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (l *stallLog) count() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}
