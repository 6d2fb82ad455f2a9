package lvs

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Reconcile runs one full pass synchronously: read the whole table, plan,
// apply every operation (one failure does not stop the others), and program
// the filter. The error summarises what failed; Result says what was done.
func (r *Reconciler) Reconcile(ctx context.Context) (Result, error) {
	r.pass.Lock()
	defer r.pass.Unlock()
	return r.full(ctx)
}

func (r *Reconciler) full(ctx context.Context) (Result, error) {
	start := time.Now()
	r.mu.Lock()
	r.stats.Runs++
	desired, have := r.desired, r.haveDesired
	owned := maps.Clone(r.owned)
	clear(r.dirty)
	r.filterDirty = false
	r.mu.Unlock()

	res := Result{Full: true}
	var errs []error
	if have && r.opts.Filter != nil {
		errs = r.applyFilter(ctx, &res, desired, errs)
	}
	observed, err := r.t.Services()
	if err != nil {
		r.mu.Lock()
		r.fullDone = false
		r.mu.Unlock()
		errs = append(errs, fmt.Errorf("reading the IPVS table: %w", err))
		return r.finish(res, start, nil, errs)
	}
	slices.SortFunc(observed, func(a, b Service) int { return a.Key.Compare(b.Key) })
	ownedFn := func(k ServiceKey) bool { return r.opts.PruneForeign || owned[k] }
	if !have {
		res.Foreign = Foreign(nil, observed, ownedFn)
		return r.finish(res, start, observed, errs)
	}
	res.Foreign = Foreign(desired.Services, observed, ownedFn)
	errs = r.apply(ctx, &res, Plan(desired.Services, observed, ownedFn), errs)
	r.mu.Lock()
	r.fullDone = true
	r.mu.Unlock()
	return r.finish(res, start, patch(observed, res.Applied), errs)
}

// ReconcileChanged runs one pass over the services SetDesired changed since
// the last pass: it reads just those from the kernel (one request for the
// service and one for its real servers each), plans and applies. It falls
// back to a full pass before the first full one, after a failed read, or
// when many services changed. The filter is programmed only if its rules
// changed.
func (r *Reconciler) ReconcileChanged(ctx context.Context) (Result, error) {
	r.pass.Lock()
	defer r.pass.Unlock()
	r.mu.Lock()
	if !r.fullDone || !r.haveDesired || len(r.dirty) > max(64, len(r.desired.Services)/8) {
		r.mu.Unlock()
		return r.full(ctx)
	}
	start := time.Now()
	r.stats.Runs++
	keys := make([]ServiceKey, 0, len(r.dirty))
	owned := make(map[ServiceKey]bool, len(r.dirty))
	for k := range r.dirty {
		keys = append(keys, k)
		owned[k] = r.owned[k]
	}
	clear(r.dirty)
	desired, filter := r.desired, r.filterDirty
	r.filterDirty = false
	r.mu.Unlock()

	var res Result
	var errs []error
	if filter && r.opts.Filter != nil {
		errs = r.applyFilter(ctx, &res, desired, errs)
	}
	slices.SortFunc(keys, ServiceKey.Compare)
	var want, have []Service
	for _, s := range desired.Services {
		if _, ok := owned[s.Key.canonical()]; ok {
			want = append(want, s)
		}
	}
	fresh := make(map[ServiceKey]*Service, len(keys))
	for _, k := range keys {
		s, ok, err := r.t.Service(k)
		if err != nil {
			r.mu.Lock()
			r.fullDone = false // the next pass reads everything
			r.mu.Unlock()
			errs = append(errs, fmt.Errorf("reading IPVS service %s: %w", k, err))
			return r.finish(res, start, nil, errs)
		}
		fresh[k] = nil
		if ok {
			s.Key = s.Key.canonical()
			have = append(have, s)
			fresh[k] = &s
		}
	}
	ownedFn := func(k ServiceKey) bool { return r.opts.PruneForeign || owned[k] }
	errs = r.apply(ctx, &res, Plan(want, have, ownedFn), errs)
	return r.finish(res, start, patch(replace(r.observed, fresh), res.Applied), errs)
}

// applyFilter programs the packet filter and records the outcome.
func (r *Reconciler) applyFilter(ctx context.Context, res *Result, d Desired, errs []error) []error {
	res.FilterChanged, res.FilterErr = r.opts.Filter.Apply(ctx, d.Marks, d.SNAT)
	if res.FilterErr != nil {
		r.mu.Lock()
		r.filterDirty = true // retry on the next pass
		r.mu.Unlock()
		errs = append(errs, fmt.Errorf("packet filter: %w", res.FilterErr))
	}
	return errs
}

// apply performs ops in order, in batches when the table can; a failure
// does not stop the others. Destinations of a service that could not be
// created are skipped, or, in a batch, their failures are not reported:
// they are retried with their service on the next pass.
func (r *Reconciler) apply(ctx context.Context, res *Result, ops []Op, errs []error) []error {
	// Applied shares ops until the first failure: a cold start does not
	// copy its 50,000 operations again.
	res.Applied = ops[:0]
	shared := true
	failedSvc := make(map[ServiceKey]bool)
	record := func(op Op, err error) {
		if err != nil && shared {
			res.Applied, shared = slices.Clone(res.Applied), false
		}
		switch {
		case err == nil:
			res.Applied = append(res.Applied, op)
		case op.Kind == OpAddDest && failedSvc[op.Service.Key]:
		default:
			oe := &OpError{Op: op, Err: err}
			res.Failed = append(res.Failed, oe)
			errs = append(errs, oe)
			if op.Kind == OpAddService {
				failedSvc[op.Service.Key] = true
			}
		}
	}
	bw, batch := r.t.(BatchWriter)
	for start := 0; start < len(ops); start += applyChunk {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		chunk := ops[start:min(len(ops), start+applyChunk)]
		if batch {
			for i, err := range bw.WriteOps(chunk) {
				record(chunk[i], err)
			}
			continue
		}
		for _, op := range chunk {
			if op.Kind == OpAddDest && failedSvc[op.Service.Key] {
				continue
			}
			var err error
			if e := op.Apply(r.t); e != nil {
				err = e.(*OpError).Err
			}
			record(op, err)
		}
	}
	if len(res.Failed) > 0 {
		r.mu.Lock()
		for _, f := range res.Failed {
			r.dirty[f.Op.Service.Key] = true // retried by the next pass of either kind
		}
		r.mu.Unlock()
	}
	return errs
}

// applyChunk is how many operations apply hands over between checks of
// ctx.
const applyChunk = 1024
