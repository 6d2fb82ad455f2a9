package track

import "testing"

// BenchmarkScanProcs is one /proc scan of track_process (done once a
// second while any track_process is configured); it reports the number of
// processes scanned.
func BenchmarkScanProcs(b *testing.B) {
	for _, args := range []bool{false, true} {
		name := "comm"
		if args {
			name = "comm+cmdline"
		}
		b.Run(name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				ps, err := scanProcs(args)
				if err != nil {
					b.Fatal(err)
				}
				n = len(ps)
			}
			b.ReportMetric(float64(n), "procs")
		})
	}
}
