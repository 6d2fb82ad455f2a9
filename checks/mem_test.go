package checks

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/havsd/havsd/test/poll"
)

// BenchmarkScheduler10k reports what the scheduler holds for the checks of
// 10,000 services of 4 real servers (40,000 TCP checks, each of its own
// server, one spec per service as a configuration gives), after every
// check has run once and after a reload that hands it equal specs anew:
// heap bytes per target, and the goroutine stacks; and the bytes allocated
// (Set included) and the process CPU (Set excluded) per check. The checks connect to
// unused loopback addresses and are refused at once, like the daemon's
// 10k reload test whose servers are unreachable.
//
//	go test -run '^$' -bench Scheduler10k -benchtime 1x ./checks [-sched10k.profile heap.pb.gz]
func BenchmarkScheduler10k(b *testing.B) {
	const services, reals = 10000, 4
	targets := func() map[ID][]Spec {
		m := make(map[ID][]Spec, services*reals)
		for i := range services {
			vip := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 200, byte(i >> 8), byte(i)}), 80)
			// The reals of a service share one spec slice per real, as
			// conf's real servers each hold their own.
			for j := range reals {
				rs := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 77 + byte(j), byte(i >> 8), byte(i)}), 9)
				m[ID(fmt.Sprintf("tcp %s/%s", vip, rs))] = []Spec{{Kind: KindTCP, Target: rs, Interval: 10 * time.Second, Timeout: time.Second}}
			}
		}
		return m
	}
	for b.Loop() {
		base := heapLive()
		allocs0 := memMetric("/gc/heap/allocs:bytes")
		s := NewScheduler(Options{})
		s.Set(targets())
		cpu0 := cpuTime()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { s.Run(ctx) })
		wg.Go(func() {
			for {
				select {
				case <-s.Transitions():
				case <-ctx.Done():
					return
				}
			}
		})
		poll.Until(b, 2*time.Minute, "every check run once", func() bool {
			st := s.Stats()
			return st.Checks >= services*reals && st.InFlight == 0
		})
		cpuPerCheck := (cpuTime() - cpu0).Seconds() / float64(s.Stats().Checks) * 1e6
		perCheck := (memMetric("/gc/heap/allocs:bytes") - allocs0) / float64(s.Stats().Checks)
		ran := heapLive() - base
		s.Set(targets()) // a reload of the same configuration
		reloaded := heapLive() - base
		stacks := memMetric("/memory/classes/heap/stacks:bytes")
		if *sched10kProfile != "" {
			writeHeapProfile(b, *sched10kProfile)
		}
		st := s.Stats()
		runtime.KeepAlive(s)
		cancel()
		wg.Wait()
		n := float64(services * reals)
		b.Logf("targets %d, probes %d: heap %.1f MB after the first round (%.0f B/target), %.1f MB after a reload (%.0f B/target); stacks %.1f MB; goroutines %d; allocated %.0f B per check (Set included)",
			st.Targets, st.Probes, ran/(1<<20), ran/n, reloaded/(1<<20), reloaded/n, stacks/(1<<20), runtime.NumGoroutine(), perCheck)
		b.ReportMetric(ran/n, "heap-B/target")
		b.ReportMetric(reloaded/n, "heap-B/target-reloaded")
		b.ReportMetric(perCheck, "alloc-B/check")
		b.ReportMetric(cpuPerCheck, "cpu-us/check")
	}
}

// sched10kProfile names a file for the heap profile of BenchmarkScheduler10k
// taken while the scheduler holds its 40,000 targets (go tool pprof
// -sample_index=inuse_space FILE).
var sched10kProfile = flag.String("sched10k.profile", "", "write BenchmarkScheduler10k's heap profile, with the scheduler live, to `file`")

func writeHeapProfile(b *testing.B, name string) {
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// heapLive collects garbage twice (a finalizer's or a cleanup's may free
// more) and returns the bytes of live heap objects.
func heapLive() float64 {
	runtime.GC()
	runtime.GC()
	return memMetric("/memory/classes/heap/objects:bytes")
}

func memMetric(name string) float64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64())
}
