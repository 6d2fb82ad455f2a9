package director

import (
	"context"
	"testing"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/lvstest"
)

// realIPVS drives the real reconciler synchronously: SetDesired reconciles
// at once, so a test can count the writes each director decision causes.
type realIPVS struct {
	t *testing.T
	r *lvs.Reconciler
}

func (x realIPVS) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (x realIPVS) SetDesired(d lvs.Desired) {
	x.r.SetDesired(d)
	if _, err := x.r.Reconcile(context.Background()); err != nil {
		x.t.Errorf("reconcile: %v", err)
	}
}
func (x realIPVS) Trigger() {
	if _, err := x.r.Reconcile(context.Background()); err != nil {
		x.t.Errorf("reconcile: %v", err)
	}
}
func (x realIPVS) Observed() []lvs.Service { return x.r.Observed() }
func (x realIPVS) Status() IPVSStatus      { return IPVSStatus{Available: true} }

// TestReloadWritesOnlyTheDifference: through the real reconciler over a
// counting fake table, an unchanged reload writes nothing, a reload adding a
// service writes that service and its real servers only, a weight change is
// one write, and a health transition is one write.
func TestReloadWritesOnlyTheDifference(t *testing.T) {
	table := lvstest.NewCounting(lvstest.NewFake())
	h := newHarness(t, webConfig(true, 0, 0))
	ipvs := realIPVS{t: t, r: lvs.NewReconciler(table, lvs.ReconcilerOptions{Interval: -1})}
	if err := h.d.do(context.Background(), func() { h.d.deps.IPVS = ipvs; h.d.apply() }); err != nil {
		t.Fatal(err)
	}
	reload := func(cfg *conf.Config) lvstest.Counts {
		t.Helper()
		table.ResetCounts()
		h.next.Store(&Loaded{Config: cfg})
		if st := h.reload(); !st.OK {
			t.Fatalf("reload: %+v", st)
		}
		return table.Counts()
	}
	if c := reload(webConfig(true, 0, 0)); c.Writes() != 0 {
		t.Errorf("unchanged reload: %d writes (%+v), want 0", c.Writes(), c)
	}

	added := webConfig(true, 0, 0)
	k443 := lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: vip, Port: 443}
	added.Services = append(added.Services, conf.VirtualService{Name: "tls", Service: lvs.Service{Key: k443, Scheduler: "rr"},
		Reals: []conf.RealServer{{Dest: lvs.Destination{Addr: rs1, Port: 443, Weight: 1, Forward: lvs.Masq}}}})
	if c := reload(added); c.NewService != 1 || c.NewDestination != 1 || c.Writes() != 2 {
		t.Errorf("reload adding one service with one real server: %+v, want exactly 1 NewService + 1 NewDestination", c)
	}

	reweighted := webConfig(true, 0, 0)
	reweighted.Services = append(reweighted.Services, added.Services[1])
	reweighted.Services[0].Reals[0].Dest.Weight = 5
	if c := reload(reweighted); c.UpdateDestination != 1 || c.Writes() != 1 {
		t.Errorf("reload changing one weight: %+v, want exactly 1 UpdateDestination", c)
	}

	table.ResetCounts()
	id := RealID(key80, lvs.DestKey{Addr: rs2, Port: 80})
	h.healthCh <- HealthChange{ID: id, Up: false}
	h.eventually("health applied", func() bool { return table.Counts().Writes() > 0 })
	if c := table.Counts(); c.UpdateDestination != 1 || c.Writes() != 1 {
		t.Errorf("one real server failing: %+v, want exactly 1 UpdateDestination (weight 0)", c)
	}
}
