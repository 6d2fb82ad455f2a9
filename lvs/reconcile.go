package lvs

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"
)

// Filter programs the packet-filter rules havsd owns (firewall marks and the
// SNAT of full-NAT). Apply makes the rules exactly marks and snat, touching
// nothing when they are already so, and reports whether it changed anything.
type Filter interface {
	Apply(ctx context.Context, marks []MarkRule, snat []SNATRule) (changed bool, err error)
}

// Desired is everything the reconciler makes the kernel hold.
type Desired struct {
	Services []Service
	Marks    []MarkRule
	SNAT     []SNATRule
}

// ReconcilerOptions configure a Reconciler.
type ReconcilerOptions struct {
	Logger *slog.Logger // nil discards
	// Interval between periodic passes that repair drift; zero means
	// DefaultInterval, negative disables periodic passes.
	Interval time.Duration
	Filter   Filter // packet-filter side; nil disables it
	// PruneForeign deletes services neither desired nor created by this
	// process, instead of only reporting them.
	PruneForeign bool
}

// DefaultInterval is the period of drift repair when none is configured.
const DefaultInterval = 30 * time.Second

// Result is the outcome of one reconcile pass.
type Result struct {
	Full          bool         // the whole table was read, not only changed services
	Applied       []Op         // operations that succeeded, in order
	Failed        []*OpError   // operations that failed; the next pass retries them
	Foreign       []ServiceKey // services left alone because they are not ours
	FilterChanged bool         // the packet-filter rules were rewritten
	FilterErr     error        // the packet-filter side failed
	Duration      time.Duration
}

// ReconcileStats are running totals for status and metrics.
type ReconcileStats struct {
	Runs         uint64 // passes started
	Ops          uint64 // operations applied successfully
	Errors       uint64 // failed operations, dumps and filter applies
	LastError    string // message of the most recent error; empty if none yet
	LastRun      time.Time
	LastDuration time.Duration
}

// Reconciler keeps the kernel's IPVS table (and the packet-filter rules)
// equal to a desired set, touching only what differs. It manages the services
// in the desired set and the ones it created or managed earlier in this
// process; other services are reported and left alone unless PruneForeign.
type Reconciler struct {
	t       Table
	opts    ReconcilerOptions
	log     *slog.Logger
	trigger chan struct{}

	pass sync.Mutex // serialises passes: t need not be goroutine-safe

	mu          sync.Mutex // guards the fields below
	desired     Desired
	haveDesired bool
	owned       map[ServiceKey]bool
	dirty       map[ServiceKey]bool // services changed by SetDesired since the last pass
	filterDirty bool                // marks or SNAT changed since the last pass
	fullDone    bool                // observed is a trustworthy picture of the kernel
	wantFull    bool                // Trigger asked for a full pass
	observed    []Service           // sorted by key; written only by passes
	stats       ReconcileStats
	foreignSeen map[ServiceKey]bool
}

// componentLog returns l, or a logger that discards when l is nil, naming
// the component in every record.
func componentLog(l *slog.Logger, component string) *slog.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return l.With("component", component)
}

// NewReconciler returns a reconciler over t. It does no I/O; call Run, or
// Reconcile for one pass.
func NewReconciler(t Table, opts ReconcilerOptions) *Reconciler {
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	return &Reconciler{
		t: t, opts: opts, log: componentLog(opts.Logger, "lvs"),
		trigger:     make(chan struct{}, 1),
		owned:       make(map[ServiceKey]bool),
		dirty:       make(map[ServiceKey]bool),
		foreignSeen: make(map[ServiceKey]bool),
	}
}

// SetDesired replaces the desired state and triggers a pass; it does not
// block. It notes which services changed, so that the pass Run makes for the
// trigger reads and plans only those. Until it is first called, passes only
// read the table.
func (r *Reconciler) SetDesired(d Desired) {
	marks := make([]MarkRule, len(d.Marks))
	for i, m := range d.Marks {
		m.Ports = slices.Clone(m.Ports) // the caller may reuse its slices
		marks[i] = m
	}
	snat := slices.Clone(d.SNAT)
	if snat == nil {
		snat = []SNATRule{}
	}
	r.mu.Lock()
	svcs, ok := r.reuseSamePositions(r.desired.Services, d.Services)
	if !ok {
		svcs = copyServices(d.Services)
		r.markByKey(r.desired.Services, svcs)
	}
	if !r.haveDesired || !reflect.DeepEqual(r.desired.Marks, marks) || !reflect.DeepEqual(r.desired.SNAT, snat) {
		r.filterDirty = true
	}
	r.desired, r.haveDesired = Desired{Services: svcs, Marks: marks, SNAT: snat}, true
	r.mu.Unlock()
	r.kick()
}

// reuseSamePositions handles the common case where old and cur list the
// same keys in the same order, without maps: it marks the changed services
// and returns cur with unchanged services shared with old and changed ones
// copied. It reports false, having done nothing, when the keys differ.
func (r *Reconciler) reuseSamePositions(old, cur []Service) ([]Service, bool) {
	if len(old) != len(cur) || len(cur) == 0 {
		return nil, false
	}
	for i := range cur {
		if old[i].Key != cur[i].Key {
			return nil, false
		}
	}
	out := make([]Service, len(cur))
	for i := range cur {
		if sameService(old[i], cur[i]) {
			out[i] = old[i]
			continue
		}
		out[i] = cur[i]
		out[i].Destinations = slices.Clone(cur[i].Destinations)
		r.dirty[cur[i].Key.canonical()] = true
	}
	return out, true
}

// markByKey marks services added, changed or removed between old and cur,
// and owns the new ones.
func (r *Reconciler) markByKey(old, cur []Service) {
	prev := make(map[ServiceKey]Service, len(old))
	for _, s := range old {
		prev[s.Key.canonical()] = s
	}
	for _, s := range cur {
		k := s.Key.canonical()
		r.owned[k] = true
		if o, ok := prev[k]; !ok || !sameService(o, s) {
			r.dirty[k] = true
		}
		delete(prev, k)
	}
	for k := range prev {
		r.dirty[k] = true
	}
}

// copyServices copies svcs and their destinations, the latter into one
// backing array.
func copyServices(svcs []Service) []Service {
	n := 0
	for _, s := range svcs {
		n += len(s.Destinations)
	}
	all := make([]Destination, 0, n)
	out := make([]Service, len(svcs))
	for i, s := range svcs {
		all = append(all, s.Destinations...)
		s.Destinations = all[len(all)-len(s.Destinations) : len(all) : len(all)]
		out[i] = s
	}
	return out
}

// sameService reports whether a and b are written identically, destinations
// in the same order; it is a cheap test that never allocates.
func sameService(a, b Service) bool {
	if a.Key != b.Key || a.Scheduler != b.Scheduler || a.Flags != b.Flags || a.Timeout != b.Timeout ||
		a.NetmaskBits != b.NetmaskBits || a.PE != b.PE || a.OnePacket != b.OnePacket ||
		len(a.Destinations) != len(b.Destinations) {
		return false
	}
	for i := range a.Destinations {
		x, y := a.Destinations[i], b.Destinations[i]
		if x.Key() != y.Key() || !x.Equal(y) {
			return false
		}
	}
	return true
}

// Trigger asks Run for a full pass soon ("reconcile now"); any number of
// triggers and SetDesired calls before the pass starts collapse into one.
func (r *Reconciler) Trigger() {
	r.mu.Lock()
	r.wantFull = true
	r.mu.Unlock()
	r.kick()
}

func (r *Reconciler) kick() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Observed returns the table as last read, updated with the operations
// applied since, with counters as of the read.
func (r *Reconciler) Observed() []Service {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Service, len(r.observed))
	for i, s := range r.observed {
		s.Destinations = slices.Clone(s.Destinations)
		out[i] = s
	}
	return out
}

// Stats returns running totals.
func (r *Reconciler) Stats() ReconcileStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// tickEvery returns a channel that receives every d and the function that
// stops it; for d <= 0 the channel is nil and never ready.
func tickEvery(d time.Duration) (<-chan time.Time, func()) {
	if d <= 0 {
		return nil, func() {}
	}
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Run reconciles until ctx is done, then returns nil: after SetDesired only
// the services changed since the last pass (ReconcileChanged), after Trigger
// and every interval the whole table (Reconcile). Failures are logged and retried on
// the next pass.
func (r *Reconciler) Run(ctx context.Context) error {
	tick, stop := tickEvery(r.opts.Interval)
	defer stop()
	for {
		var res Result
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-r.trigger:
			r.mu.Lock()
			full := r.wantFull
			r.wantFull = false
			r.mu.Unlock()
			if full {
				res, err = r.Reconcile(ctx)
			} else {
				res, err = r.ReconcileChanged(ctx)
			}
		case <-tick:
			res, err = r.Reconcile(ctx)
		}
		if ctx.Err() != nil {
			return nil
		}
		r.logPass(res, err)
	}
}

// finish records a pass's outcome and builds its error.
func (r *Reconciler) finish(res Result, start time.Time, observed []Service, errs []error) (Result, error) {
	res.Duration = time.Since(start)
	r.mu.Lock()
	defer r.mu.Unlock()
	if observed != nil {
		r.observed = observed
	}
	for _, op := range res.Applied {
		if op.Kind == OpDelService && !r.desiredHas(op.Service.Key) {
			delete(r.owned, op.Service.Key)
		}
	}
	r.stats.Ops += uint64(len(res.Applied))
	r.stats.Errors += uint64(len(errs))
	r.stats.LastRun, r.stats.LastDuration = start, res.Duration
	if len(errs) == 0 {
		return res, nil
	}
	err := errs[0]
	if len(errs) > 1 {
		err = fmt.Errorf("%w (and %d more errors)", errs[0], len(errs)-1)
	}
	r.stats.LastError = err.Error()
	return res, err
}

func (r *Reconciler) desiredHas(k ServiceKey) bool {
	return slices.ContainsFunc(r.desired.Services, func(s Service) bool { return s.Key.canonical() == k })
}

// logPass logs one pass of Run: each failure, new foreign services once, and
// a summary when something changed.
func (r *Reconciler) logPass(res Result, err error) {
	for _, f := range res.Failed {
		attrs := []any{"service", f.Op.Service.Key.String(), "err", f.Error()}
		if f.Op.IsDest() {
			attrs = append(attrs, "backend", f.Op.Dest.Key().String())
		}
		r.log.Error("IPVS operation failed, retrying next pass", attrs...)
	}
	if res.FilterErr != nil {
		r.log.Error("programming packet-filter rules failed", "err", res.FilterErr)
	}
	if err != nil && len(res.Failed) == 0 && res.FilterErr == nil {
		r.log.Error("reconcile failed", "err", err)
	}
	r.mu.Lock()
	var fresh []string
	for _, k := range res.Foreign {
		if !r.foreignSeen[k] {
			r.foreignSeen[k] = true
			fresh = append(fresh, k.String())
		}
	}
	r.mu.Unlock()
	for _, k := range fresh {
		r.log.Warn("foreign IPVS service left alone (not in the configuration)", "service", k)
	}
	for _, op := range res.Applied {
		r.log.Debug("applied", "op", op.String())
	}
	if len(res.Applied) > 0 || res.FilterChanged {
		r.log.Info("reconciled", "ops", len(res.Applied), "failed", len(res.Failed),
			"filter_changed", res.FilterChanged, "duration", res.Duration)
	}
}
