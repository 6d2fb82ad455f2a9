package director

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/internal/clock"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/lvstest"
	"github.com/havsd/havsd/test/poll"
	"github.com/havsd/havsd/vrrp"
)

// TestSyncDaemons runs the director with the production SyncDaemons over a
// fake kernel: both daemons start with the instance's settings, a reload
// that leaves ipvs_sync alone touches no daemon, a changed sync id restarts
// them, removing the block stops them, and status shows them.
func TestSyncDaemons(t *testing.T) {
	withSync := func(id uint8) *conf.Config {
		return &conf.Config{
			Global:    conf.Global{IPVSMode: conf.IPVSAlways, Sync: &conf.IPVSSync{Interface: "eth1", Instance: "VI_1", SyncID: id}},
			Instances: []vrrp.Config{instanceCfg("VI_1", 51, 100)},
		}
	}
	kernel := &lvstest.SyncFake{}
	var next atomic.Pointer[Loaded]
	next.Store(&Loaded{Config: withSync(51)})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := lvs.NewSyncReconciler(kernel, lvs.SyncOptions{Interval: -1})
	deps := Deps{
		Load: func() Loaded { return *next.Load() },
		NewVRRP: func(c vrrp.Config, _ []uint8, report Report) (VRRP, error) {
			f := &fakeVRRP{cfg: c, report: report, stopped: make(chan struct{}), fail: make(chan error, 1)}
			f.now, f.onRelease = time.Now, func(string) {}
			return f, nil
		},
		IPVS:      &fakeIPVS{},
		NewHealth: func(chan<- HealthChange) Health { return &fakeHealth{} },
		Clock:     clock.NewFake(time.Now()),
		Sync:      NewSyncDaemons(rec, log),
	}
	d := New(withSync(51), "test.hcl", deps, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	running := func(id uint8) func() bool {
		return func() bool {
			ds, _ := kernel.SyncDaemons()
			return len(ds) == 2 && ds[0].SyncID == id && ds[1].SyncID == id
		}
	}
	poll.Until(t, 5*time.Second, "both daemons", running(51))
	st, err := d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sync == nil || st.Sync.Instance != "VI_1" || len(st.Sync.Daemons) != 2 ||
		!st.Sync.Daemons[0].Running || st.Sync.Daemons[0].Role != "master" || st.Sync.Daemons[1].Role != "backup" || st.Sync.Daemons[0].Port != lvs.DefaultSyncPort {
		t.Errorf("status: %+v", st.Sync)
	}

	before := kernel.Calls()
	if _, err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// A pass now applies whatever the reload asked for: nothing.
	if steps, err := rec.Reconcile(ctx); err != nil || len(steps) != 0 {
		t.Errorf("pass after an unchanged reload: %v, %v", steps, err)
	}
	if c := kernel.Calls(); c.Starts != before.Starts || c.Stops != before.Stops {
		t.Errorf("an unchanged reload touched the daemons: %+v, was %+v", c, before)
	}

	next.Store(&Loaded{Config: withSync(52)})
	if _, err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "daemons restarted with sync id 52", running(52))

	noSync := withSync(0)
	noSync.Global.Sync = nil
	next.Store(&Loaded{Config: noSync})
	if _, err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "daemons stopped", func() bool { ds, _ := kernel.SyncDaemons(); return len(ds) == 0 })
}
