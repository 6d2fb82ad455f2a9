package bgp

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/havsd/havsd/test/poll"
)

// BenchmarkAnnounce1000 times SetRoutes of 1000 VIPs until Status reads
// them back from GoBGP's RIB, and their withdrawal; it reports the heap a
// running speaker holds with them (go test ./bgp -run X -bench Announce).
func BenchmarkAnnounce1000(b *testing.B) {
	heap := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc)
	}
	h0 := heap()
	s, err := New(Config{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11"), Communities: []string{"65000:100"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	var rs []Route
	for i := range 1000 {
		rs = append(rs, Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 32)})
	}
	var withHeap float64
	b.ResetTimer()
	for range b.N {
		s.SetRoutes(rs)
		if !poll.For(time.Minute, func() bool { return len(s.Status().Announced) == len(rs) }) {
			b.Fatal("the routes never reached GoBGP's RIB")
		}
		b.StopTimer()
		withHeap = heap() - h0
		b.StartTimer()
		s.SetRoutes(nil)
		if !poll.For(time.Minute, func() bool { return len(s.Status().Announced) == 0 }) {
			b.Fatal("the routes never left GoBGP's RIB")
		}
	}
	b.ReportMetric(withHeap/1e6, "MB-heap-with-1000")
}
