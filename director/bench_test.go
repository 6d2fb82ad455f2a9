package director

import (
	"context"
	"net/netip"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/lvstest"
)

// bigConfig is n services of 4 health-checked real servers each.
func bigConfig(n int) *conf.Config {
	cfg := &conf.Config{Global: conf.Global{IPVSMode: conf.IPVSAlways}}
	for i := range n {
		vip := netip.AddrFrom4([4]byte{10, 200, byte(i >> 8), byte(i)})
		vs := conf.VirtualService{Name: "s", Service: lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: vip, Port: 80}, Scheduler: "wrr"}}
		for j := range 4 {
			a := netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + j)})
			vs.Reals = append(vs.Reals, conf.RealServer{
				Dest:             lvs.Destination{Addr: a, Port: 8080, Weight: 1, Forward: lvs.Masq},
				InhibitOnFailure: true,
				Checks:           []checks.Spec{{Kind: checks.KindTCP, Target: netip.AddrPortFrom(a, 8080), Interval: time.Second}},
			})
		}
		cfg.Services = append(cfg.Services, vs)
	}
	return cfg
}

// BenchmarkHealthTransition10k is the director's own work when one real
// server of a 10,000-service table fails, as onHealth does it: recompute
// that service, hand the table to the reconciler and run its targeted pass
// (one write, to a fake).
func BenchmarkHealthTransition10k(b *testing.B) {
	cfg := bigConfig(10000)
	table := lvstest.NewCounting(lvstest.NewFake())
	r := lvs.NewReconciler(table, lvs.ReconcilerOptions{Interval: -1})
	in := Inputs{Health: map[RealKey]bool{}, Quorum: map[lvs.ServiceKey]lvs.QuorumState{}}
	out := Compute(cfg, in)
	r.SetDesired(out.Desired)
	if _, err := r.Reconcile(context.Background()); err != nil {
		b.Fatal(err)
	}
	id := RealKey{cfg.Services[5000].Service.Key, cfg.Services[5000].Reals[1].Dest.Key()}
	up := true
	table.ResetCounts()
	for b.Loop() {
		up = !up
		in.Health[id] = up
		if !out.Update(cfg, in, id.Service) {
			b.Fatal("service not in the table")
		}
		in.Quorum = out.Quorum
		r.SetDesired(out.Desired)
		if _, err := r.ReconcileChanged(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	if w := table.Counts().Writes(); w != b.N {
		b.Fatalf("%d writes for %d transitions, want one each", w, b.N)
	}
}

// BenchmarkCompute10k is a full recomputation of a 10,000-service table, as
// a reload or a VRRP transition in master-only mode does.
func BenchmarkCompute10k(b *testing.B) {
	cfg := bigConfig(10000)
	in := Inputs{Health: map[RealKey]bool{}, Quorum: map[lvs.ServiceKey]lvs.QuorumState{}}
	for b.Loop() {
		Compute(cfg, in)
	}
}

// BenchmarkOutcomeMemory10k reports the heap a 10,000-service desired
// table holds (the Outcome the director keeps between reloads), beyond the
// configuration it is computed from.
//
//	go test -run '^$' -bench OutcomeMemory10k -benchtime 1x ./director
func BenchmarkOutcomeMemory10k(b *testing.B) {
	cfg := bigConfig(10000)
	in := Inputs{Health: map[RealKey]bool{}, Quorum: map[lvs.ServiceKey]lvs.QuorumState{}}
	for b.Loop() {
		before := heapLive()
		out := Compute(cfg, in)
		held := heapLive() - before
		runtime.KeepAlive(out)
		b.ReportMetric(held/(1<<20), "MB")
		b.ReportMetric(held/float64(len(out.Desired.Services)), "B/service")
	}
}

// heapLive collects garbage and returns the bytes of live heap objects.
func heapLive() float64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64())
}
