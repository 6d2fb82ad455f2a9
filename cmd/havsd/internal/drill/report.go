package drill

import (
	"fmt"
	"io"
	"time"
)

// Summary aggregates the repetitions of one drill.
type Summary struct {
	Gap, VIPMoved, GARP Stats
	Lost                Stats // lost probes, as counts in Duration units
	Unrecovered         int
	Stalled             int           // repetitions whose prober was starved
	MTTR                time.Duration // mean gap
}

// Summarise aggregates results.
func Summarise(rs []Result) Summary {
	var gaps, moved, garp, lost []time.Duration
	var s Summary
	for _, r := range rs {
		gaps = append(gaps, r.Gap)
		lost = append(lost, time.Duration(r.Lost))
		if r.VIPMovedOK {
			moved = append(moved, r.VIPMoved)
		}
		if r.GARPOK {
			garp = append(garp, r.GARP)
		}
		if !r.Recovered {
			s.Unrecovered++
		}
		if r.Stalled() {
			s.Stalled++
		}
	}
	s.Gap, s.VIPMoved, s.GARP, s.Lost = Summarize(gaps), Summarize(moved), Summarize(garp), Summarize(lost)
	s.MTTR = s.Gap.Mean
	return s
}

// WriteSummary prints the drill's summary and the availability arithmetic
// for mtbf (none when mtbf is zero).
func WriteSummary(w io.Writer, title string, rs []Result, mtbf time.Duration) {
	s := Summarise(rs)
	fmt.Fprintf(w, "%s: %d repetitions\n", title, len(rs))
	fmt.Fprintf(w, "  client gap      %s\n", s.Gap)
	if s.Lost.N > 0 {
		fmt.Fprintf(w, "  lost probes     min %d  median %d  max %d\n", s.Lost.Min, s.Lost.Median, s.Lost.Max)
	}
	fmt.Fprintf(w, "  VIP moved       %s\n", s.VIPMoved)
	fmt.Fprintf(w, "  first GARP      %s\n", s.GARP)
	if s.Stalled > 0 {
		fmt.Fprintf(w, "  prober stalled  in %d of %d repetitions: the machine is busy, gaps may be inflated\n", s.Stalled, len(rs))
	}
	if s.Unrecovered > 0 {
		fmt.Fprintf(w, "  NOT RECOVERED   %d of %d repetitions\n", s.Unrecovered, len(rs))
	}
	if mtbf > 0 && s.Gap.N > 0 {
		a := Availability(mtbf, s.MTTR)
		fmt.Fprintf(w, "  availability    MTTR %s (mean gap), MTBF %s → A = MTBF/(MTBF+MTTR) = %.7f%% (%.1f nines, %s down a year)\n",
			ms(s.MTTR), mtbf, 100*a, Nines(a), DowntimePerYear(a).Round(time.Millisecond))
	}
}
