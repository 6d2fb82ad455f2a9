package lvs_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/lvstest"
)

func bigTable(n int) []lvs.Service {
	out := make([]lvs.Service, n)
	for i := range out {
		vip := netip.AddrFrom4([4]byte{10, 200, byte(i >> 8), byte(i)})
		out[i] = lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: vip, Port: 80}, Scheduler: "wrr"}
		for j := range 4 {
			out[i].Destinations = append(out[i].Destinations,
				lvs.Destination{Addr: netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + j)}), Port: 8080, Weight: 1, Forward: lvs.Masq})
		}
	}
	return out
}

// BenchmarkPlanNoChange is the pure planning work of a no-change pass over
// 10,000 services x 4 real servers.
func BenchmarkPlanNoChange(b *testing.B) {
	d := bigTable(10000)
	o := bigTable(10000)
	for b.Loop() {
		if ops := lvs.Plan(d, o, nil); len(ops) != 0 {
			b.Fatal(ops)
		}
	}
}

// BenchmarkReconcileWeightChange is one weight change in a 10,000-service
// table held by the in-memory fake, as Run handles it: SetDesired and a pass
// over the changed service.
func BenchmarkReconcileWeightChange(b *testing.B) {
	d := bigTable(10000)
	fake := lvstest.NewFake(d...)
	r := lvs.NewReconciler(fake, lvs.ReconcilerOptions{})
	r.SetDesired(lvs.Desired{Services: d})
	if _, err := r.Reconcile(context.Background()); err != nil {
		b.Fatal(err)
	}
	w := 1
	for b.Loop() {
		w++
		d[5000].Destinations[1].Weight = w
		r.SetDesired(lvs.Desired{Services: d})
		res, err := r.ReconcileChanged(context.Background())
		if err != nil || len(res.Applied) != 1 || res.Full {
			b.Fatal(err, res.Applied)
		}
	}
}

// BenchmarkReconcileFullWeightChange is the same change through a full pass
// (dump of the fake included).
func BenchmarkReconcileFullWeightChange(b *testing.B) {
	d := bigTable(10000)
	fake := lvstest.NewFake(d...)
	r := lvs.NewReconciler(fake, lvs.ReconcilerOptions{})
	w := 1
	for b.Loop() {
		w++
		d[5000].Destinations[1].Weight = w
		r.SetDesired(lvs.Desired{Services: d})
		res, err := r.Reconcile(context.Background())
		if err != nil || len(res.Applied) != 1 {
			b.Fatal(err, res.Applied)
		}
	}
}

// BenchmarkReconcileFromEmpty programs 10,000 services x 4 real servers into
// an empty fake: our own work for a cold start.
func BenchmarkReconcileFromEmpty(b *testing.B) {
	d := bigTable(10000)
	for b.Loop() {
		fake := lvstest.NewFake()
		r := lvs.NewReconciler(fake, lvs.ReconcilerOptions{})
		r.SetDesired(lvs.Desired{Services: d})
		if res, err := r.Reconcile(context.Background()); err != nil || len(res.Applied) != 50000 {
			b.Fatal(err, len(res.Applied))
		}
	}
}

// discardTable is an empty table that accepts every batch: what remains of
// a cold start is our own work (plan, bookkeeping, the patched view).
type discardTable struct{ lvs.Table }

func (discardTable) Services() ([]lvs.Service, error) { return nil, nil }
func (discardTable) WriteOps(ops []lvs.Op) []error    { return make([]error, len(ops)) }

// BenchmarkColdOwnWork is the reconciler's own work programming 10,000
// services x 4 real servers through a batching table, as OpenIPVS's is.
func BenchmarkColdOwnWork(b *testing.B) {
	d := bigTable(10000)
	for b.Loop() {
		r := lvs.NewReconciler(discardTable{}, lvs.ReconcilerOptions{})
		r.SetDesired(lvs.Desired{Services: d})
		if res, err := r.Reconcile(context.Background()); err != nil || len(res.Applied) != 50000 {
			b.Fatal(err, len(res.Applied))
		}
	}
}
