package checks

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// engine is the scheduler's pure core: targets, the probes they share, the
// per-probe hysteresis and the queue of due probes. It does no I/O and reads
// no clock: callers pass now. The Scheduler guards it with its mutex.
//
// A probe is one check of one server with one set of settings: targets
// whose specs are equal (the same real server checked the same way by
// several services) share it, so it runs once per interval and its result
// fans out to all of them.
type engine struct {
	targets map[ID]*target
	probes  map[probeID]*probe
	shapes  map[shapeKey]*shape // of the probes, shared
	queue   probeQueue
	rand    func(n int64) int64         // uniform in [0, n)
	build   func(Spec) (Checker, error) // nil: the package's checkers, built from shapes

	limit    int  // most checks running at once now; 0 for no limit
	maxLimit int  // the configured bound, that limit grows back to
	credit   int  // results without a stall since limit last changed
	inflight int  // checks running now
	capped   bool // due left due probes queued because of limit

	lag time.Duration // how late the last due probe started (start - due)
}

// target is one ID: a real server and the checks that must all pass. It
// keeps no copy of its specs: its probes (shape and address) are them.
type target struct {
	id     ID
	probes []*probe // one per spec, in the order given
	up     bool
	weight Weight    // what its checks do to the weight (weight.go), as last reported
	sent   sentState // what the consumer of transitions has (mailbox.go)
}

// probe is one check of one server with its hysteresis state, shared by
// the targets listed in users. Its settings are its shape's, shared with
// the probes of other servers checked the same way, and its address.
//
// With tens of thousands of probes their size is most of the scheduler's
// memory: the fields are ordered to pack, and nothing lives here that a
// probe needs only while its check runs.
type probe struct {
	shape     *shape
	target    netip.AddrPort
	users     []*target // a target appears once per spec that maps here
	checker   Checker   // a *buildFailure when it could not be built
	lastErr   error
	cancel    context.CancelFunc // cancels the running check (goroutine path); nil otherwise
	next      time.Time
	lastAt    time.Time
	lastStart time.Time     // start of the latest check
	latency   time.Duration // of the latest check
	period    time.Duration // time between the latest two starts: the effective interval
	weight    int           // the weight the latest success set (Weigher)
	qidx      int32         // index in the queue; -1 when not queued
	fails     int32         // consecutive failures
	succs     int32         // consecutive successes
	stalls    uint8         // consecutive results discarded because the checker stalled
	up        bool
	running   bool
	removed   bool
	ev        bool // runs on the epoll loop
	weightSet bool // whether the latest success set a weight; cleared when the probe goes down
}

// spec returns the probe's full spec (with defaults).
func (p *probe) spec() Spec {
	s := p.shape.spec
	s.Target = p.target
	return s
}

// kind is the probe's check kind.
func (p *probe) kind() Kind { return p.shape.spec.Kind }

// String names the probe in logs: "tcp 10.0.0.1:80".
func (p *probe) String() string { return p.kind().String() + " " + p.target.String() }

// probeID identifies a probe: its shape and its address.
type probeID struct {
	shape  *shape
	target netip.AddrPort
}

// shape is everything of a check's settings but the address it probes,
// with defaults: the checks of all the real servers of a service usually
// share one, so that each probe holds a pointer and an address rather
// than a whole Spec, and the package's checkers share what they build
// from the settings (TLS configuration, regex, dialer: http.go).
type shape struct {
	key  shapeKey
	spec Spec // Target is zero
	refs int  // probes using it
	http *httpShape
}

// shapeKey is a Spec with defaults, less its Target, in comparable form:
// two specs describe the same check of the same address when their
// targets and keys are equal. Alpha and Warmup only shape a new target's
// start and are part of it too, so that equal specs, and only those,
// share a probe.
type shapeKey struct {
	kind                             Kind
	alpha                            bool
	source                           netip.Addr
	interval, timeout, delay, warmup time.Duration
	retry, rise                      int
	bindIf                           string
	ext                              string // the kind's own settings, formatted; "" for none
}

// shapeKeyOf returns the key of s, which has its defaults.
func shapeKeyOf(s Spec) shapeKey {
	k := shapeKey{kind: s.Kind, alpha: s.Alpha, source: s.Source, interval: s.Interval, timeout: s.Timeout,
		delay: s.DelayBeforeRetry, warmup: s.Warmup, retry: s.Retry, rise: s.Rise, bindIf: s.BindIf}
	if s.HTTP != nil || s.Script != nil || s.UDP != nil || s.DNS != nil || s.SMTP != nil {
		var b strings.Builder
		if s.HTTP != nil {
			fmt.Fprintf(&b, "|http%#v", *s.HTTP)
		}
		if s.Script != nil {
			fmt.Fprintf(&b, "|script%#v", *s.Script)
		}
		if s.UDP != nil {
			fmt.Fprintf(&b, "|udp%#v", *s.UDP)
		}
		if s.DNS != nil {
			fmt.Fprintf(&b, "|dns%#v", *s.DNS)
		}
		if s.SMTP != nil {
			fmt.Fprintf(&b, "|smtp%#v", *s.SMTP)
		}
		k.ext = b.String()
	}
	return k
}

// buildFailure is the checker of a probe whose checker could not be
// built: every check fails with the error.
type buildFailure struct{ err error }

func (f *buildFailure) Check(context.Context) error { return f.err }

// buildError returns the error of building p's checker, if any.
func (p *probe) buildError() error {
	if f, ok := p.checker.(*buildFailure); ok {
		return f.err
	}
	return nil
}

// maxStallRetries bounds the results of one probe discarded in a row
// because the checker itself stalled: past it a timeout counts again, so a
// director that is stalled all the time still detects dead servers.
const maxStallRetries = 3

// minInFlight is the least the in-flight limit shrinks to after stalls.
const minInFlight = 8

// unbounded stands for "no bound" in maxLimit.
const unbounded = 1 << 30

func newEngine(rnd func(int64) int64, build func(Spec) (Checker, error), limit int) *engine {
	if limit <= 0 {
		limit = unbounded
	}
	return &engine{targets: map[ID]*target{}, probes: map[probeID]*probe{}, shapes: map[shapeKey]*shape{},
		rand: rnd, build: build, limit: limit, maxLimit: limit}
}

// backOff halves the in-flight limit (not below minInFlight, nor above
// what runs now) after the checker stalled: a director short of CPU then
// runs fewer checks at once, each finishing in time, and the checks left
// waiting stretch the effective interval instead of timing out.
func (e *engine) backOff() {
	e.limit = max(min(e.limit, max(e.inflight, minInFlight))/2, min(minInFlight, e.maxLimit))
	e.credit = 0
}

// grow doubles the in-flight limit after as many results without a
// stall as the limit, up to the configured bound: a stall that passed (a
// pause, a burst of load) costs a few rounds of checks, not minutes of a
// throttled checker when servers answer slowly.
func (e *engine) grow() {
	if e.limit >= e.maxLimit {
		return
	}
	if e.credit++; e.credit >= e.limit {
		e.limit, e.credit = min(2*e.limit, e.maxLimit), 0
	}
}

// InitialUp reports the state a new target starts in: down when any of its
// checks has Alpha, up otherwise (keepalived's default).
func InitialUp(specs []Spec) bool {
	for _, s := range specs {
		if s.Alpha {
			return false
		}
	}
	return true
}

// setResult says what set did to each ID, for the scheduler's bookkeeping.
type setResult struct {
	added, changed, removed []ID
	buildErrs               map[ID]error
	transitions             []Transition // of targets that joined running probes
}

// set replaces the target list. Unchanged IDs keep everything; a changed
// ID detaches from its probes and attaches to those of its new specs, which
// inherit the target's state when they are new; new IDs start per Alpha;
// a removed ID detaches. A probe no target uses any more is dropped and its
// running check cancelled.
func (e *engine) set(now time.Time, want map[ID][]Spec) setResult {
	var r setResult
	var detach []*target // old probe lists, released after every attach
	for id, t := range e.targets {
		if _, ok := want[id]; !ok {
			detach = append(detach, &target{id: t.id, probes: t.probes})
			delete(e.targets, id)
			r.removed = append(r.removed, id)
		}
	}
	for id, specs := range want {
		t, ok := e.targets[id]
		switch {
		case !ok:
			t = &target{id: id, up: InitialUp(specs)}
			e.targets[id] = t
			r.added = append(r.added, id)
		case sameChecks(t, specs):
			continue
		default:
			detach = append(detach, &target{id: t.id, probes: t.probes})
			r.changed = append(r.changed, id)
		}
		t.probes = make([]*probe, len(specs))
		for i, s := range specs {
			up := t.up
			if !ok {
				up = !s.Alpha
			}
			p, err := e.attach(now, t, s, up)
			if err != nil {
				if r.buildErrs == nil {
					r.buildErrs = map[ID]error{}
				}
				r.buildErrs[id] = err
			}
			t.probes[i] = p
		}
	}
	for _, old := range detach {
		e.detach(old)
	}
	// A target that joined probes already running takes their verdict now.
	for _, ids := range [][]ID{r.added, r.changed} {
		for _, id := range ids {
			t := e.targets[id]
			if up, w := allUp(t), weightOf(t); up != t.up || w != t.weight {
				t.up, t.weight = up, w
				r.transitions = append(r.transitions, Transition{ID: id, Up: up, Weight: w, At: now,
					Reason: "shares checks already running: " + sharedReason(t, up)})
			}
		}
	}
	return r
}

// sentOf returns what the consumer of transitions has of id (nil for an
// unknown ID), for the mailbox.
func (e *engine) sentOf(id ID) *sentState {
	if t, ok := e.targets[id]; ok {
		return &t.sent
	}
	return nil
}

func allUp(t *target) bool {
	for _, p := range t.probes {
		if !p.up {
			return false
		}
	}
	return true
}

// sharedReason words the state of a target's shared probes.
func sharedReason(t *target, up bool) string {
	for _, p := range t.probes {
		if !up && !p.up {
			return reason(p, false, len(t.probes))
		}
	}
	return reason(t.probes[0], true, len(t.probes))
}

// attach returns the probe for spec s, creating it (state up, due after a
// warm-up draw) when no target uses one yet, and records t as a user. It
// returns the error of building a new checker, which then fails every check.
func (e *engine) attach(now time.Time, t *target, s Spec, up bool) (*probe, error) {
	s = s.WithDefaults()
	key := shapeKeyOf(s)
	sh := e.shapes[key]
	if sh != nil {
		if p := e.probes[probeID{sh, s.Target}]; p != nil {
			p.users = append(p.users, t)
			return p, p.buildError()
		}
	} else {
		sh = &shape{key: key, spec: s}
		sh.spec.Target = netip.AddrPort{}
		e.shapes[key] = sh
	}
	sh.refs++
	p := &probe{shape: sh, target: s.Target, users: []*target{t}, up: up, qidx: -1}
	var err error
	switch {
	case e.build != nil:
		p.checker, err = e.build(s)
	case s.Kind == KindTCP && s.Target.IsValid():
		p.checker = (*tcpProbe)(p) // checker.go
	default:
		p.checker, err = newShaped(sh, s.Target) // checker.go
	}
	if err != nil {
		p.checker = &buildFailure{err}
	}
	_, p.ev = evJobOf(p.checker)
	p.next = now
	if s.Warmup > 0 {
		p.next = now.Add(time.Duration(e.rand(int64(s.Warmup))))
	}
	e.probes[probeID{sh, s.Target}] = p
	heap.Push(&e.queue, p)
	return p, err
}

// detach removes old.id from the users of old.probes (once per entry)
// and drops the probes left without users.
func (e *engine) detach(old *target) {
	for _, p := range old.probes {
		for i, u := range p.users {
			if u.id == old.id {
				p.users = append(p.users[:i], p.users[i+1:]...)
				break
			}
		}
		if len(p.users) > 0 || p.removed {
			continue
		}
		p.removed = true
		delete(e.probes, probeID{p.shape, p.target})
		if p.shape.refs--; p.shape.refs == 0 {
			delete(e.shapes, p.shape.key)
		}
		if c, ok := p.checker.(io.Closer); ok {
			c.Close() // a kept-alive connection; a running check still ends on its own
		}
		if p.qidx >= 0 {
			heap.Remove(&e.queue, int(p.qidx))
		}
		if p.cancel != nil {
			p.cancel()
		}
	}
}

// sameChecks reports whether t's probes are the checks specs describe, in
// order: equal with defaults (a field left to its default and the same
// default spelt out are one check, as they are one probe).
func sameChecks(t *target, specs []Spec) bool {
	if len(specs) != len(t.probes) {
		return false
	}
	for i, s := range specs {
		s = s.WithDefaults()
		p := t.probes[i]
		if p.target != s.Target || p.shape.key != shapeKeyOf(s) {
			return false
		}
	}
	return true
}

// due pops every probe due at or before now, up to the in-flight limit,
// and marks it running. start is the time the checks start, for the lag
// and the effective interval.
func (e *engine) due(now, start time.Time) []*probe {
	var out []*probe
	e.capped = false
	for len(e.queue) > 0 && !e.queue[0].next.After(now) {
		if e.inflight >= e.limit {
			e.capped = true
			break
		}
		p := heap.Pop(&e.queue).(*probe)
		p.running = true
		e.inflight++
		e.lag = max(start.Sub(p.next), 0)
		if p.stalls == 0 { // a retry after a stall is not a new round
			if !p.lastStart.IsZero() {
				p.period = start.Sub(p.lastStart)
			}
			p.lastStart = start
		}
		out = append(out, p)
	}
	return out
}

// finish records that p's check is over; it reports false if p was not
// running.
func (e *engine) finish(p *probe) bool {
	if !p.running {
		return false
	}
	p.running = false
	p.cancel = nil
	e.inflight--
	return true
}

// nextDue returns the earliest time a probe is due, if any is queued.
func (e *engine) nextDue() (time.Time, bool) {
	if len(e.queue) == 0 {
		return time.Time{}, false
	}
	return e.queue[0].next, true
}

// requeue puts back a probe whose check was cancelled without a verdict.
// It reports whether the run loop must re-arm.
func (e *engine) requeue(p *probe) bool {
	if !e.finish(p) || p.removed {
		return e.capped
	}
	heap.Push(&e.queue, p)
	return e.capped || p.qidx == 0
}

// discard drops a result that says nothing about the server (the checker
// stalled while the check ran) and queues the check again at now. It
// reports false, doing nothing but finish, when p has had maxStallRetries
// results discarded in a row: the caller then applies the result.
func (e *engine) discard(p *probe, now time.Time) (ok, rearm bool) {
	if int(p.stalls) >= maxStallRetries {
		return false, false
	}
	e.finish(p)
	if p.removed {
		return true, e.capped
	}
	p.stalls++
	p.next = now
	heap.Push(&e.queue, p)
	return true, e.capped || p.qidx == 0
}

// result applies one check outcome at time now, reschedules the probe and
// returns the transitions of the targets whose state changed. rearm
// reports that the run loop must re-arm: the probe became the earliest
// due, or a slot opened under the in-flight limit.
func (e *engine) result(p *probe, now time.Time, latency time.Duration, err error, dw dynWeight) (trs []Transition, rearm bool) {
	e.finish(p)
	if p.removed {
		return nil, e.capped
	}
	p.lastErr, p.lastAt, p.latency, p.stalls = err, now, latency, 0
	if err == nil {
		p.weight, p.weightSet = dw.w, dw.set
	}
	scheduled := p.next
	spec := &p.shape.spec
	p.next = scheduled.Add(spec.Interval) // fixed rate
	if err == nil {
		p.fails, p.succs = 0, p.succs+1
		if !p.up && int(p.succs) >= spec.Rise {
			p.up = true
		}
	} else {
		p.succs, p.fails = 0, p.fails+1
		if p.up {
			if int(p.fails) >= spec.failuresToDown() {
				p.up, p.weightSet = false, false
			} else {
				p.next = now.Add(spec.DelayBeforeRetry)
			}
		}
	}
	if p.next.Before(now) {
		p.next = now
	}
	heap.Push(&e.queue, p)
	rearm = e.capped || p.qidx == 0
	for i, t := range p.users {
		if containsTarget(p.users[:i], t) {
			continue // a target with this check twice
		}
		up, w := allUp(t), weightOf(t)
		if up == t.up && w == t.weight {
			continue
		}
		why := reason(p, up, len(t.probes))
		if up == t.up {
			why = fmt.Sprintf("%s check set the weight to %d", p.kind(), p.weight)
			if !p.weightSet {
				why = fmt.Sprintf("%s check passed without setting the weight: the configured weight applies", p.kind())
			}
		}
		t.up, t.weight = up, w
		trs = append(trs, Transition{ID: t.id, Up: up, Weight: w, At: now, Reason: why})
	}
	return trs, rearm
}

func containsTarget(ts []*target, t *target) bool {
	for _, u := range ts {
		if u == t {
			return true
		}
	}
	return false
}

func reason(p *probe, up bool, n int) string {
	if !up {
		return fmt.Sprintf("%s check failed %d time(s) in a row: %v", p.kind(), p.fails, p.lastErr)
	}
	if n > 1 {
		return fmt.Sprintf("%s check passed %d time(s) in a row; all %d checks pass", p.kind(), p.succs, n)
	}
	return fmt.Sprintf("%s check passed %d time(s) in a row", p.kind(), p.succs)
}

// probeQueue is a min-heap of probes by next due time.
type probeQueue []*probe

func (q probeQueue) Len() int           { return len(q) }
func (q probeQueue) Less(i, j int) bool { return q[i].next.Before(q[j].next) }
func (q probeQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].qidx, q[j].qidx = int32(i), int32(j)
}
func (q *probeQueue) Push(x any) {
	p := x.(*probe)
	p.qidx = int32(len(*q))
	*q = append(*q, p)
}
func (q *probeQueue) Pop() any {
	old := *q
	p := old[len(old)-1]
	old[len(old)-1] = nil
	p.qidx = -1
	*q = old[:len(old)-1]
	return p
}
