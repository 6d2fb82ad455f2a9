package drill

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Sample is one probe: when it was sent, when it finished and whether it
// succeeded within its timeout.
type Sample struct {
	Sent, Done time.Time
	OK         bool
}

// Outage is the client's view of one event, computed from a probe log.
type Outage struct {
	// Gap is the longest time between two consecutive successful probe
	// completions from just before the event on: last success before the
	// outage → first success after it. Without loss it is about one probe
	// interval.
	Gap time.Duration
	// LastOK and FirstOK bound the gap, as offsets from the event (LastOK is
	// usually negative).
	LastOK, FirstOK time.Duration
	// Lost is the number of failed probes sent from the event on; Sent is the
	// number of probes sent from the event on.
	Lost, Sent int
	// Recovered is false when no probe succeeded after the gap.
	Recovered bool
	// SendStall is the longest time between two probe sends from the event
	// on. Far above the interval, the prober itself was starved of CPU and
	// the gap is partly its own.
	SendStall time.Duration
}

// Analyze computes the outage around event from a probe log. Successes are
// ordered by completion, so a probe that succeeds late (a retransmitted SYN)
// never hides a hole made by the probes around it. Holes that closed before
// event-interval are ignored; end closes an outage that never recovered.
// Recovered is false when no probe succeeded after the event or the last
// probe failed after the longest hole.
func Analyze(samples []Sample, event, end time.Time, interval time.Duration) Outage {
	var o Outage
	var done []time.Time
	var last Sample // the last probe sent
	for _, s := range samples {
		if !s.Sent.Before(event) {
			o.Sent++
			if !s.OK {
				o.Lost++
			}
		}
		if s.OK {
			done = append(done, s.Done)
		}
		if s.Sent.After(last.Sent) {
			last = s
		}
	}
	slices.SortFunc(done, func(a, b time.Time) int { return a.Compare(b) })
	o.SendStall = sendStall(samples, event.Add(-interval))
	from := event.Add(-interval)
	// prev is the last success completing before the window: the outage
	// starts at it, or at the event if the log has none.
	prev := event
	i := 0
	for ; i < len(done) && done[i].Before(from); i++ {
		prev = done[i]
	}
	o.LastOK = prev.Sub(event)
	o.FirstOK = end.Sub(event)
	best := time.Duration(-1)
	for ; i < len(done); i++ {
		if d := done[i].Sub(prev); d > best {
			best, o.LastOK, o.FirstOK, o.Recovered = d, prev.Sub(event), done[i].Sub(event), true
		}
		prev = done[i]
	}
	// A hole still open when probing stopped, with the last probe failed, is
	// an outage that never recovered (a pause in sending is not an outage).
	if tail := end.Sub(prev); best < 0 || (!last.OK && tail > best) {
		best, o.LastOK, o.FirstOK, o.Recovered = tail, prev.Sub(event), end.Sub(event), false
	}
	o.Gap = best
	return o
}

// sendStall returns the longest interval between consecutive sends at or
// after from.
func sendStall(samples []Sample, from time.Time) time.Duration {
	var sent []time.Time
	for _, s := range samples {
		if !s.Sent.Before(from) {
			sent = append(sent, s.Sent)
		}
	}
	slices.SortFunc(sent, func(a, b time.Time) int { return a.Compare(b) })
	var best time.Duration
	for i := 1; i < len(sent); i++ {
		best = max(best, sent[i].Sub(sent[i-1]))
	}
	return best
}

// Stats summarises durations.
type Stats struct {
	N                      int
	Min, Median, Max, Mean time.Duration
}

// Summarize returns min, median, mean and max of ds (zero for none). The
// median of an even count is the mean of the middle two.
func Summarize(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	st := Stats{N: len(s), Min: s[0], Max: s[len(s)-1], Mean: sum / time.Duration(len(s))}
	if n := len(s); n%2 == 1 {
		st.Median = s[n/2]
	} else {
		st.Median = (s[n/2-1] + s[n/2]) / 2
	}
	return st
}

func (s Stats) String() string {
	if s.N == 0 {
		return "n/a"
	}
	return fmt.Sprintf("min %s  median %s  max %s  (n=%d)", ms(s.Min), ms(s.Median), ms(s.Max), s.N)
}

// Availability is A = MTBF / (MTBF + MTTR).
func Availability(mtbf, mttr time.Duration) float64 {
	if mtbf <= 0 {
		return 0
	}
	return float64(mtbf) / float64(mtbf+mttr)
}

// Nines returns -log10(1-A): 3 for 99.9 %.
func Nines(a float64) float64 {
	if a >= 1 {
		return math.Inf(1)
	}
	return -math.Log10(1 - a)
}

// DowntimePerYear is what availability a leaves of a 365-day year.
func DowntimePerYear(a float64) time.Duration {
	return time.Duration((1 - a) * float64(365*24*time.Hour))
}

// ms prints a duration in milliseconds with one decimal below 10 ms.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	if f < 10 && f > -10 {
		return fmt.Sprintf("%.1f ms", f)
	}
	return fmt.Sprintf("%.0f ms", f)
}
