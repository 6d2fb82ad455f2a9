package lvs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/lvstest"
)

func TestSyncReconciler(t *testing.T) {
	ctx := context.Background()
	kernel := &lvstest.SyncFake{}
	r := lvs.NewSyncReconciler(kernel, lvs.SyncOptions{})
	m := lvs.SyncDaemon{Role: lvs.SyncMaster, Interface: "eth1", SyncID: 51}
	b := lvs.SyncDaemon{Role: lvs.SyncBackup, Interface: "eth1", SyncID: 51}
	pass := func(t *testing.T, wantSteps int) lvs.SyncStatus {
		t.Helper()
		steps, err := r.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) != wantSteps {
			t.Errorf("steps %v, want %d", steps, wantSteps)
		}
		return r.Status()
	}

	t.Run("an operator's daemon before SetDesired is left alone", func(t *testing.T) {
		if err := kernel.StartSyncDaemon(b); err != nil {
			t.Fatal(err)
		}
		if st := pass(t, 0); len(st.Running) != 1 {
			t.Errorf("running %v", st.Running)
		}
		if err := kernel.StopSyncDaemon(lvs.SyncBackup); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("both started", func(t *testing.T) {
		r.SetDesired([]lvs.SyncDaemon{m, b})
		st := pass(t, 2)
		if len(st.Running) != 2 || st.Starts != 2 || st.Restarts != 0 {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("nothing to do: no writes", func(t *testing.T) {
		before := kernel.Calls()
		r.SetDesired([]lvs.SyncDaemon{m, b}) // a reload that left ipvs_sync alone
		pass(t, 0)
		if c := kernel.Calls(); c.Starts != before.Starts || c.Stops != before.Stops {
			t.Errorf("calls %+v after %+v", c, before)
		}
	})
	t.Run("stopped behind our back: restarted and counted", func(t *testing.T) {
		if err := kernel.StopSyncDaemon(lvs.SyncMaster); err != nil { // ipvsadm --stop-daemon master
			t.Fatal(err)
		}
		st := pass(t, 1)
		if st.Restarts != 1 || len(st.Running) != 2 {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("a changed sync id restarts the daemons", func(t *testing.T) {
		m2, b2 := m, b
		m2.SyncID, b2.SyncID = 52, 52
		r.SetDesired([]lvs.SyncDaemon{m2, b2})
		st := pass(t, 4)
		if st.Restarts != 1 || st.Running[0].SyncID != 52 || st.Running[1].SyncID != 52 {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("ipvs_sync removed: ours are stopped", func(t *testing.T) {
		r.SetDesired(nil)
		if st := pass(t, 2); len(st.Running) != 0 {
			t.Errorf("still running %v", st.Running)
		}
	})
	t.Run("kernel errors are reported and counted", func(t *testing.T) {
		r.SetDesired([]lvs.SyncDaemon{m})
		kernel.FailWith(errors.New("no IPVS"))
		if _, err := r.Reconcile(ctx); err == nil {
			t.Fatal("no error")
		}
		if st := r.Status(); st.Errors != 1 || st.LastError == "" {
			t.Errorf("status %+v", st)
		}
		kernel.FailWith(nil)
		pass(t, 1)
	})
}
