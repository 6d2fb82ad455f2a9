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

// SyncTable is the kernel side of the connection-sync daemons.
type SyncTable interface {
	// SyncDaemons lists the running daemons with the kernel's defaults
	// filled in.
	SyncDaemons() ([]SyncDaemon, error)
	// StartSyncDaemon starts a daemon; the kernel refuses a second one of
	// the same role.
	StartSyncDaemon(d SyncDaemon) error
	// StopSyncDaemon stops the daemon of a role.
	StopSyncDaemon(r SyncRole) error
}

// SyncOptions configure a SyncReconciler.
type SyncOptions struct {
	Logger *slog.Logger // nil discards
	// Interval between passes that repair drift (a daemon stopped behind
	// our back); zero means DefaultInterval, negative disables them.
	Interval time.Duration
}

// SyncStatus is the sync daemons' state for status and metrics.
type SyncStatus struct {
	Desired []SyncDaemon // as configured (zero fields: kernel defaults)
	Running []SyncDaemon // as the kernel reported them after the last pass
	// Restarts counts desired daemons found stopped behind our back (an
	// operator's ipvsadm --stop-daemon) and started again.
	Restarts     uint64
	Starts       uint64 // daemons started, restarts included
	Stops        uint64 // daemons stopped
	Errors       uint64 // failed reads, starts and stops
	LastError    string
	LastRun      time.Time
	LastDuration time.Duration
}

// SyncReconciler keeps the kernel's sync daemons equal to a desired set:
// it starts what is missing, restarts a daemon whose settings differ, and
// stops a daemon of a role it manages that is no longer wanted. Daemons of
// roles it never managed in this process are left alone, so a daemon an
// operator started by hand survives a configuration without ipvs_sync. It
// re-checks periodically, so a daemon stopped behind its back is started
// again and reported.
type SyncReconciler struct {
	t       SyncTable
	opts    SyncOptions
	log     *slog.Logger
	trigger chan struct{}

	pass sync.Mutex // serialises passes

	mu      sync.Mutex // guards the fields below
	desired []SyncDaemon
	have    bool              // SetDesired was called
	owned   map[SyncRole]bool // roles this process has managed
	good    map[SyncRole]bool // desired daemons seen running at the end of the last pass
	status  SyncStatus
}

// NewSyncReconciler returns a reconciler over t. It does no I/O.
func NewSyncReconciler(t SyncTable, opts SyncOptions) *SyncReconciler {
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	return &SyncReconciler{t: t, opts: opts, log: componentLog(opts.Logger, "ipvs-sync"),
		trigger: make(chan struct{}, 1), owned: map[SyncRole]bool{}, good: map[SyncRole]bool{}}
}

// SetDesired replaces the desired daemons (nil: none) and triggers a pass
// when they changed; it does not block. Setting the same daemons again
// does nothing, so a reload that leaves ipvs_sync alone touches no daemon.
func (r *SyncReconciler) SetDesired(ds []SyncDaemon) {
	r.mu.Lock()
	same := r.have && slices.Equal(r.desired, ds)
	if !same {
		r.desired, r.have = slices.Clone(ds), true
		for _, d := range ds {
			r.owned[d.Role] = true
		}
		clear(r.good) // a changed daemon missing next time is ours to start, not drift
	}
	r.mu.Unlock()
	if !same {
		select {
		case r.trigger <- struct{}{}:
		default:
		}
	}
}

// Status returns the state after the last pass.
func (r *SyncReconciler) Status() SyncStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.status
	st.Desired = slices.Clone(r.desired)
	st.Running = slices.Clone(st.Running)
	return st
}

// Run makes a pass on every SetDesired that changed something and every
// interval, until ctx is done.
func (r *SyncReconciler) Run(ctx context.Context) error {
	tick, stop := tickEvery(r.opts.Interval)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.trigger:
		case <-tick:
		}
		if _, err := r.Reconcile(ctx); err != nil {
			r.log.Warn("sync daemons", "err", err)
		}
	}
}

// Reconcile runs one pass: read the running daemons, plan, apply. It
// returns the steps that succeeded; the error joins those that failed.
// Before the first SetDesired it only reads.
func (r *SyncReconciler) Reconcile(ctx context.Context) ([]SyncStep, error) {
	r.pass.Lock()
	defer r.pass.Unlock()
	start := time.Now()
	r.mu.Lock()
	desired, have := slices.Clone(r.desired), r.have
	owned, good := maps.Clone(r.owned), maps.Clone(r.good)
	r.mu.Unlock()

	running, err := r.t.SyncDaemons()
	if err != nil {
		r.finish(start, nil, nil, 0, err)
		return nil, err
	}
	if !have {
		r.finish(start, running, nil, 0, nil)
		return nil, nil
	}
	var steps []SyncStep
	for _, s := range PlanSync(desired, running) {
		if !s.Start && !owned[s.Daemon.Role] {
			continue // an operator's daemon of a role we never managed
		}
		steps = append(steps, s)
	}
	var done []SyncStep
	var errs []error
	restarts := 0
	for _, s := range steps {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		if s.Start && good[s.Daemon.Role] && !slices.ContainsFunc(running, func(d SyncDaemon) bool { return d.Role == s.Daemon.Role }) {
			restarts++
			r.log.Warn("sync daemon stopped behind our back: starting it again", "role", s.Daemon.Role.String(),
				"interface", s.Daemon.Interface, "sync_id", s.Daemon.SyncID)
		}
		var err error
		if s.Start {
			err = r.t.StartSyncDaemon(s.Daemon)
		} else {
			err = r.t.StopSyncDaemon(s.Daemon.Role)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, s)
		r.log.Info("sync daemon "+map[bool]string{true: "started", false: "stopped"}[s.Start], "daemon", s.Daemon.String())
	}
	if len(done) > 0 {
		if running, err = r.t.SyncDaemons(); err != nil {
			errs = append(errs, err)
		}
	}
	err = errors.Join(errs...)
	r.finish(start, running, done, restarts, err)
	r.mu.Lock()
	if slices.Equal(r.desired, desired) {
		clear(r.good)
		for _, d := range desired {
			if i := slices.IndexFunc(running, func(h SyncDaemon) bool { return d.Satisfies(h) }); i >= 0 {
				r.good[d.Role] = true
			}
		}
	}
	r.mu.Unlock()
	return done, err
}

func (r *SyncReconciler) finish(start time.Time, running []SyncDaemon, done []SyncStep, restarts int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &r.status
	if running != nil || err == nil {
		st.Running = running
	}
	for _, s := range done {
		if s.Start {
			st.Starts++
		} else {
			st.Stops++
		}
	}
	st.Restarts += uint64(restarts)
	if err != nil {
		st.Errors++
		st.LastError = err.Error()
	}
	st.LastRun, st.LastDuration = start, time.Since(start)
}

// String describes a status on one line per daemon, for logs and havsd
// status.
func (s SyncStatus) String() string {
	if len(s.Desired) == 0 && len(s.Running) == 0 {
		return "no sync daemons"
	}
	out := ""
	for _, d := range s.Running {
		out += fmt.Sprintf("running: %s\n", d)
	}
	for _, d := range s.Desired {
		if !slices.ContainsFunc(s.Running, d.Satisfies) {
			out += fmt.Sprintf("wanted, not running: %s\n", d)
		}
	}
	return out
}
