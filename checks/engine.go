package checks

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"time"
)

// engine is the scheduler's pure core: targets, per-check hysteresis and the
// queue of due checks. It does no I/O and reads no clock: callers pass now.
// The Scheduler guards it with its mutex.
type engine struct {
	targets map[ID]*target
	queue   probeQueue
	rand    func(n int64) int64 // uniform in [0, n)
	build   func(Spec) (Checker, error)

	limit    int  // most checks running at once; 0 for no limit
	inflight int  // checks running now
	capped   bool // due left due probes queued because of limit
}

// target is one ID: a real server and the checks that must all pass.
type target struct {
	id     ID
	specs  []Spec
	probes []*probe
	up     bool
}

// probe is one check of a target with its hysteresis state.
type probe struct {
	t          *target
	spec       Spec // with defaults
	checker    Checker
	up         bool
	fails      int // consecutive failures
	succs      int // consecutive successes
	next       time.Time
	qidx       int // index in the queue; -1 when not queued
	running    bool
	removed    bool
	cancel     context.CancelFunc // cancels the running check
	lastErr    error
	lastAt     time.Time
	latency    time.Duration
	buildError error
}

func newEngine(rnd func(int64) int64, build func(Spec) (Checker, error), limit int) *engine {
	return &engine{targets: map[ID]*target{}, rand: rnd, build: build, limit: max(limit, 0)}
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
}

// set replaces the target list. Unchanged IDs keep everything; changed IDs
// get new probes that inherit the target's state; new IDs start per Alpha;
// removed IDs are dropped and their running checks cancelled.
func (e *engine) set(now time.Time, want map[ID][]Spec) setResult {
	var r setResult
	for id, t := range e.targets {
		if _, ok := want[id]; !ok {
			e.dropProbes(t)
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
			e.dropProbes(t)
			r.changed = append(r.changed, id)
		}
		t.specs = append([]Spec(nil), specs...)
		t.probes = make([]*probe, len(specs))
		for i, s := range specs {
			p := &probe{t: t, spec: s.WithDefaults(), qidx: -1}
			p.up = t.up
			if !ok {
				p.up = !s.Alpha
			}
			p.checker, p.buildError = e.build(s)
			if p.buildError != nil {
				err := p.buildError
				p.checker = CheckerFunc(func(context.Context) error { return err })
				if r.buildErrs == nil {
					r.buildErrs = map[ID]error{}
				}
				r.buildErrs[id] = err
			}
			p.next = now
			if p.spec.Warmup > 0 {
				p.next = now.Add(time.Duration(e.rand(int64(p.spec.Warmup))))
			}
			t.probes[i] = p
			heap.Push(&e.queue, p)
		}
	}
	return r
}

func (e *engine) dropProbes(t *target) {
	for _, p := range t.probes {
		p.removed = true
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
// and marks it running.
func (e *engine) due(now time.Time) []*probe {
	var out []*probe
	e.capped = false
	for len(e.queue) > 0 && !e.queue[0].next.After(now) {
		if e.limit > 0 && e.inflight >= e.limit {
			e.capped = true
			break
		}
		p := heap.Pop(&e.queue).(*probe)
		p.running = true
		e.inflight++
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
	p.running, p.cancel = false, nil
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

// result applies one check outcome at time now, reschedules the probe and
// returns the target's transition, if its state changed. rearm reports
// that the run loop must re-arm: the probe became the earliest due, or a
// slot opened under the in-flight limit.
func (e *engine) result(p *probe, now time.Time, latency time.Duration, err error) (tr *Transition, rearm bool) {
	e.finish(p)
	if p.removed {
		return nil, e.capped
	}
	p.lastErr, p.lastAt, p.latency = err, now, latency
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
			if p.fails >= p.spec.Retry {
				p.up = false
			} else {
				p.next = now.Add(p.spec.DelayBeforeRetry)
			}
		}
	}
	if p.next.Before(now) {
		p.next = now
	}
	heap.Push(&e.queue, p)
	t := p.t
	up := true
	for _, q := range t.probes {
		up = up && q.up
	}
	rearm = e.capped || p.qidx == 0
	if up == t.up {
		return nil, rearm
	}
	t.up = up
	tr = &Transition{ID: t.id, Up: up, At: now, Reason: reason(p, up, len(t.probes))}
	return tr, rearm
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
