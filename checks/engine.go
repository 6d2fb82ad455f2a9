package checks

import (
	"container/heap"
	"context"
	"fmt"
	"io"
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
	probes  map[string]*probe // by probeKey
	queue   probeQueue
	rand    func(n int64) int64 // uniform in [0, n)
	build   func(Spec) (Checker, error)

	limit    int  // most checks running at once now; 0 for no limit
	maxLimit int  // the configured bound, that limit grows back to
	credit   int  // results without a stall since limit last changed
	inflight int  // checks running now
	capped   bool // due left due probes queued because of limit

	lag time.Duration // how late the last due probe started (start - due)
}

// target is one ID: a real server and the checks that must all pass.
type target struct {
	id     ID
	specs  []Spec
	probes []*probe
	up     bool
	weight Weight // what its checks do to the weight (weight.go), as last reported
}

// probe is one check of one server with its hysteresis state, shared by
// the targets listed in users.
type probe struct {
	key        string
	users      []*target // a target appears once per spec that maps here
	spec       Spec      // with defaults
	checker    Checker
	up         bool
	fails      int // consecutive failures
	succs      int // consecutive successes
	stalls     int // consecutive results discarded because the checker stalled
	next       time.Time
	qidx       int // index in the queue; -1 when not queued
	running    bool
	removed    bool
	ctx        context.Context    // of its checks during one Run; nil between Runs
	cancel     context.CancelFunc // cancels ctx: removal or shutdown
	ev         bool               // runs on the epoll loop, as job
	job        evJob
	lastErr    error
	weight     int  // the weight the latest success set (Weigher)
	weightSet  bool // whether it set one; cleared when the probe goes down
	lastAt     time.Time
	latency    time.Duration
	lastStart  time.Time     // start of the latest check
	period     time.Duration // time between the latest two starts: the effective interval
	buildError error
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
	return &engine{targets: map[ID]*target{}, probes: map[string]*probe{}, rand: rnd, build: build,
		limit: limit, maxLimit: limit}
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
		case specsEqual(t.specs, specs):
			continue
		default:
			detach = append(detach, &target{id: t.id, probes: t.probes})
			r.changed = append(r.changed, id)
		}
		t.specs = append([]Spec(nil), specs...)
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
	key := probeKey(s)
	p := e.probes[key]
	if p != nil {
		p.users = append(p.users, t)
		return p, p.buildError
	}
	p = &probe{key: key, users: []*target{t}, spec: s, up: up, qidx: -1}
	p.checker, p.buildError = e.build(s)
	if err := p.buildError; err != nil {
		p.checker = CheckerFunc(func(context.Context) error { return err })
	}
	p.job, p.ev = evJobOf(p.checker)
	p.next = now
	if s.Warmup > 0 {
		p.next = now.Add(time.Duration(e.rand(int64(s.Warmup))))
	}
	e.probes[key] = p
	heap.Push(&e.queue, p)
	return p, p.buildError
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
		delete(e.probes, p.key)
		if c, ok := p.checker.(io.Closer); ok {
			c.Close() // a kept-alive connection; a running check still ends on its own
		}
		if p.qidx >= 0 {
			heap.Remove(&e.queue, p.qidx)
		}
		if p.cancel != nil {
			p.cancel()
		}
	}
}

// probeKey identifies a probe: every field of the spec (with defaults)
// that changes how or when the server is probed. Alpha and Warmup only
// shape a new target's start and are part of it too, so that equal specs,
// and only those, share a probe.
func probeKey(s Spec) string {
	k := fmt.Sprintf("%d|%s|%s|%d|%d|%d|%d|%d|%d|%t", s.Kind, s.Target, s.Source, s.Interval, s.Timeout,
		s.Retry, s.Rise, s.DelayBeforeRetry, s.Warmup, s.Alpha)
	if s.HTTP != nil {
		k += fmt.Sprintf("|http%+v", *s.HTTP)
	}
	if s.Script != nil {
		k += fmt.Sprintf("|script%q%t", s.Script.Argv, s.Script.Dynamic)
	}
	if s.UDP != nil {
		k += fmt.Sprintf("|udp%q%t", s.UDP.Payload, s.UDP.ExpectReply)
	}
	if s.DNS != nil {
		k += fmt.Sprintf("|dns%+v", *s.DNS)
	}
	return k
}

func specsEqual(a, b []Spec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
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
	if p.stalls >= maxStallRetries {
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
	p.next = scheduled.Add(p.spec.Interval) // fixed rate
	if err == nil {
		p.fails, p.succs = 0, p.succs+1
		if !p.up && p.succs >= p.spec.Rise {
			p.up = true
		}
	} else {
		p.succs, p.fails = 0, p.fails+1
		if p.up {
			if p.fails >= p.spec.failuresToDown() {
				p.up, p.weightSet = false, false
			} else {
				p.next = now.Add(p.spec.DelayBeforeRetry)
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
			why = fmt.Sprintf("%s check set the weight to %d", p.spec.Kind, p.weight)
			if !p.weightSet {
				why = fmt.Sprintf("%s check passed without setting the weight: the configured weight applies", p.spec.Kind)
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
		return fmt.Sprintf("%s check failed %d time(s) in a row: %v", p.spec.Kind, p.fails, p.lastErr)
	}
	if n > 1 {
		return fmt.Sprintf("%s check passed %d time(s) in a row; all %d checks pass", p.spec.Kind, p.succs, n)
	}
	return fmt.Sprintf("%s check passed %d time(s) in a row", p.spec.Kind, p.succs)
}

// probeQueue is a min-heap of probes by next due time.
type probeQueue []*probe

func (q probeQueue) Len() int           { return len(q) }
func (q probeQueue) Less(i, j int) bool { return q[i].next.Before(q[j].next) }
func (q probeQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].qidx, q[j].qidx = i, j
}
func (q *probeQueue) Push(x any) {
	p := x.(*probe)
	p.qidx = len(*q)
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
