package lvs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
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
	observed    []Service
	stats       ReconcileStats
	foreignSeen map[ServiceKey]bool
}

// NewReconciler returns a reconciler over t. It does no I/O; call Run, or
// Reconcile for one pass.
func NewReconciler(t Table, opts ReconcilerOptions) *Reconciler {
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{
		t: t, opts: opts, log: log.With("component", "lvs"),
		trigger:     make(chan struct{}, 1),
		owned:       make(map[ServiceKey]bool),
		foreignSeen: make(map[ServiceKey]bool),
	}
}

// SetDesired replaces the desired state and triggers a pass; it does not
// block. Until it is first called, passes only read the table.
func (r *Reconciler) SetDesired(d Desired) {
	d.Services = slices.Clone(d.Services)
	r.mu.Lock()
	r.desired, r.haveDesired = d, true
	for _, s := range d.Services {
		r.owned[s.Key.canonical()] = true
	}
	r.mu.Unlock()
	r.Trigger()
}

// Trigger asks Run for a pass soon; any number of triggers before the pass
// starts collapse into one.
func (r *Reconciler) Trigger() {
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

// Run reconciles on every trigger and every interval until ctx is done, then
// returns nil. Failures are logged and retried on the next pass.
func (r *Reconciler) Run(ctx context.Context) error {
	var tick <-chan time.Time
	if r.opts.Interval > 0 {
		t := time.NewTicker(r.opts.Interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.trigger:
		case <-tick:
		}
		res, err := r.Reconcile(ctx)
		if ctx.Err() != nil {
			return nil
		}
		r.logPass(res, err)
	}
}

// Reconcile runs one pass synchronously: read the table, plan, apply every
// operation (one failure does not stop the others), and program the filter.
// The error summarises what failed; Result says what was done.
func (r *Reconciler) Reconcile(ctx context.Context) (Result, error) {
	r.pass.Lock()
	defer r.pass.Unlock()
	start := time.Now()
	r.mu.Lock()
	r.stats.Runs++
	desired, have := r.desired, r.haveDesired
	owned := maps.Clone(r.owned)
	r.mu.Unlock()

	var res Result
	var errs []error
	if have && r.opts.Filter != nil {
		res.FilterChanged, res.FilterErr = r.opts.Filter.Apply(ctx, desired.Marks, desired.SNAT)
		if res.FilterErr != nil {
			errs = append(errs, fmt.Errorf("packet filter: %w", res.FilterErr))
		}
	}
	observed, err := r.t.Services()
	if err != nil {
		errs = append(errs, fmt.Errorf("reading the IPVS table: %w", err))
		return r.finish(res, start, nil, errs)
	}
	ownedFn := func(k ServiceKey) bool { return r.opts.PruneForeign || owned[k] }
	if !have {
		res.Foreign = Foreign(nil, observed, ownedFn)
		return r.finish(res, start, observed, errs)
	}
	res.Foreign = Foreign(desired.Services, observed, ownedFn)
	ops := Plan(desired.Services, observed, ownedFn)
	failedSvc := make(map[ServiceKey]bool)
	for _, op := range ops {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		if op.Kind == OpAddDest && failedSvc[op.Service.Key] {
			continue // its service could not be created; retried next pass
		}
		if err := op.Apply(r.t); err != nil {
			var oe *OpError
			errors.As(err, &oe)
			res.Failed = append(res.Failed, oe)
			errs = append(errs, err)
			if op.Kind == OpAddService {
				failedSvc[op.Service.Key] = true
			}
			continue
		}
		res.Applied = append(res.Applied, op)
	}
	return r.finish(res, start, patch(observed, res.Applied), errs)
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
