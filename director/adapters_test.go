package director

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/lvstest"
	"github.com/havsd/havsd/test/poll"
	"github.com/havsd/havsd/vrrp"
)

// fakeCore stands in for *vrrp.Instance under the adapter. Update and
// SetPriorityDelta block while gate is held, as they do on a stuck loop.
type fakeCore struct {
	events chan vrrp.Event
	gate   sync.RWMutex // held by the test: the loop is stuck

	mu      sync.Mutex
	applied []vrrp.Config
	deltas  []int
	faults  []string
}

func (c *fakeCore) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (c *fakeCore) Events() <-chan vrrp.Event     { return c.events }
func (c *fakeCore) Update(cfg vrrp.Config) error {
	c.gate.RLock()
	defer c.gate.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied = append(c.applied, cfg)
	return nil
}
func (c *fakeCore) SetPriorityDelta(delta int) {
	c.gate.RLock()
	defer c.gate.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deltas = append(c.deltas, delta)
}
func (c *fakeCore) SetSiblingVRIDs([]uint8) {}

func (c *fakeCore) SetTrackFault(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = append(c.faults, reason)
}
func (c *fakeCore) Handover(context.Context) error                 { return vrrp.ErrNotMaster }
func (c *fakeCore) Status() vrrp.Status                            { return vrrp.Status{State: vrrp.StateBackup, VRID: 51} }
func (c *fakeCore) Resume() bool                                   { return false }
func (c *fakeCore) ReleaseIfStalled() (bool, time.Duration, error) { return false, 0, nil }

func (c *fakeCore) seen() ([]vrrp.Config, []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]vrrp.Config(nil), c.applied...), append([]int(nil), c.deltas...)
}

func newAdapter(core *fakeCore, report Report) *vrrpInstance {
	return &vrrpInstance{in: core, report: report, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		cfg: instanceCfg("VI_1", 51, 100), kick: make(chan struct{}, 1)}
}

// runAdapter runs v until the test ends and returns Run's result channel.
func runAdapter(t *testing.T, v *vrrpInstance) (context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	go func() { done <- v.Run(ctx); close(finished) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Error("adapter Run did not return")
		}
	})
	return cancel, done
}

// TestVRRPAdapterNeverBlocksTheDirector: with the instance's loop stuck,
// Update and LowerPriority return at once; once it runs again it gets the
// latest configuration and delta.
func TestVRRPAdapterNeverBlocksTheDirector(t *testing.T) {
	core := &fakeCore{events: make(chan vrrp.Event)}
	v := newAdapter(core, func(context.Context, StateChange) {})
	core.gate.Lock() // stuck
	runAdapter(t, v)

	returned := make(chan struct{})
	go func() {
		for prio := uint8(101); prio <= 110; prio++ {
			v.Update(instanceCfg("VI_1", 51, prio))
			v.LowerPriority(int(prio) - 100)
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Update/LowerPriority blocked on a stuck instance")
	}
	core.gate.Unlock()
	poll.Until(t, 5*time.Second, "the latest update and delta applied", func() bool {
		cfgs, deltas := core.seen()
		return len(cfgs) > 0 && cfgs[len(cfgs)-1].Priority == 110 && len(deltas) > 0 && deltas[len(deltas)-1] == -10
	})
	if cfgs, _ := core.seen(); len(cfgs) > 2 {
		t.Errorf("%d updates applied; queued ones should collapse to the latest (at most 2: one taken before the loop got stuck)", len(cfgs))
	}
}

// TestVRRPAdapterForwardsInOrder: transitions reach the director in order,
// and Run returns after the instance stops even while the director is not
// taking reports.
func TestVRRPAdapterForwardsInOrder(t *testing.T) {
	core := &fakeCore{events: make(chan vrrp.Event)}
	var (
		mu  sync.Mutex
		got []StateChange
	)
	stall := make(chan struct{})
	v := newAdapter(core, func(ctx context.Context, sc StateChange) {
		mu.Lock()
		got = append(got, sc)
		n := len(got)
		mu.Unlock()
		if n == 3 { // the director is busy from now on
			select {
			case <-stall:
			case <-ctx.Done():
			}
		}
	})
	cancel, done := runAdapter(t, v)
	states := []vrrp.State{vrrp.StateBackup, vrrp.StateMaster, vrrp.StateBackup}
	from := vrrp.StateInit
	for _, to := range states {
		core.events <- vrrp.Event{Instance: "VI_1", From: from, To: to}
		from = to
	}
	poll.Until(t, 5*time.Second, "three transitions reported", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
	mu.Lock()
	for i, sc := range got {
		if sc.To != states[i] {
			t.Errorf("report %d: to %v, want %v", i, sc.To, states[i])
		}
	}
	mu.Unlock()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return while the director was not taking reports")
	}
	close(stall)
}

func TestIPVSAdapters(t *testing.T) {
	r := lvs.NewReconciler(lvstest.NewFake(), lvs.ReconcilerOptions{Interval: -1})
	if _, err := r.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ipvs IPVS
		want IPVSStatus
	}{
		{"reconciler", NewIPVS(r), IPVSStatus{Available: true, Reconciles: 1}},
		{"no IPVS", NoIPVS(errors.New("no ip_vs module")), IPVSStatus{Error: "no ip_vs module"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.ipvs.Status()
			st.LastRun = time.Time{}
			if st.Available != tt.want.Available || st.Error != tt.want.Error || st.Reconciles != tt.want.Reconciles {
				t.Errorf("Status() = %+v, want %+v", st, tt.want)
			}
		})
	}
}
