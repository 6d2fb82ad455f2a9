package drill

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// makeLog builds a log of probes every interval from t0 for n probes; ok
// says which succeeded; each completes rtt after it was sent.
func makeLog(t0 time.Time, interval, rtt time.Duration, n int, ok func(i int) bool) []Sample {
	var s []Sample
	for i := 0; i < n; i++ {
		sent := t0.Add(time.Duration(i) * interval)
		s = append(s, Sample{Sent: sent, Done: sent.Add(rtt), OK: ok(i)})
	}
	return s
}

func TestAnalyze(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const iv = 10 * time.Millisecond
	const rtt = time.Millisecond
	event := t0.Add(100 * iv) // probe 100 is the first sent at the event
	end := t0.Add(300 * iv)
	tests := []struct {
		name    string
		samples []Sample
		want    Outage
	}{
		{
			name:    "no loss: gap is one interval",
			samples: makeLog(t0, iv, rtt, 300, func(int) bool { return true }),
			want:    Outage{Gap: iv, LastOK: -2*iv + rtt, FirstOK: -iv + rtt, Sent: 200, Recovered: true, SendStall: iv},
		},
		{
			name:    "probes 100..149 lost",
			samples: makeLog(t0, iv, rtt, 300, func(i int) bool { return i < 100 || i >= 150 }),
			want:    Outage{Gap: 51 * iv, LastOK: -iv + rtt, FirstOK: 50*iv + rtt, Lost: 50, Sent: 200, Recovered: true, SendStall: iv},
		},
		{
			name:    "outage starting after the event",
			samples: makeLog(t0, iv, rtt, 300, func(i int) bool { return i < 120 || i >= 130 }),
			want:    Outage{Gap: 11 * iv, LastOK: 19*iv + rtt, FirstOK: 30*iv + rtt, Lost: 10, Sent: 200, Recovered: true, SendStall: iv},
		},
		{
			name:    "never recovered",
			samples: makeLog(t0, iv, rtt, 300, func(i int) bool { return i < 100 }),
			want:    Outage{Gap: 201*iv - rtt, LastOK: -iv + rtt, FirstOK: 200 * iv, Lost: 200, Sent: 200, SendStall: iv},
		},
		{
			name: "a late success does not split the hole",
			samples: append(makeLog(t0, iv, rtt, 300, func(i int) bool { return i < 100 || i >= 150 }),
				Sample{Sent: event, Done: event.Add(50*iv + 5*rtt), OK: true}),
			want: Outage{Gap: 51 * iv, LastOK: -iv + rtt, FirstOK: 50*iv + rtt, Lost: 50, Sent: 201, Recovered: true, SendStall: iv},
		},
		{
			name: "a pause in sending at the end is no outage",
			samples: append(makeLog(t0, iv, rtt, 250, func(i int) bool { return i < 100 || i >= 110 }),
				Sample{Sent: t0.Add(260 * iv), Done: t0.Add(260*iv + rtt), OK: true}),
			want: Outage{Gap: 11 * iv, LastOK: -iv + rtt, FirstOK: 10*iv + rtt, Lost: 10, Sent: 151, Recovered: true, SendStall: 11 * iv},
		},
		{
			name:    "empty log",
			samples: nil,
			want:    Outage{Gap: 200 * iv, FirstOK: 200 * iv},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Analyze(tt.samples, event, end, iv)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Analyze() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		in   []time.Duration
		want Stats
	}{
		{"none", nil, Stats{}},
		{"one", []time.Duration{5 * ms}, Stats{N: 1, Min: 5 * ms, Median: 5 * ms, Max: 5 * ms, Mean: 5 * ms}},
		{"odd", []time.Duration{30 * ms, 10 * ms, 20 * ms}, Stats{N: 3, Min: 10 * ms, Median: 20 * ms, Max: 30 * ms, Mean: 20 * ms}},
		{"even", []time.Duration{40 * ms, 10 * ms, 20 * ms, 30 * ms}, Stats{N: 4, Min: 10 * ms, Median: 25 * ms, Max: 40 * ms, Mean: 25 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Summarize(tt.in)); diff != "" {
				t.Errorf("Summarize() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAvailability(t *testing.T) {
	tests := []struct {
		name       string
		mtbf, mttr time.Duration
		want       float64
		nines      float64
	}{
		// The tutorial's example: a failure a month, repaired in 3.6 s.
		{"30 days, 3.6 s", 720 * time.Hour, 3600 * time.Millisecond, 1 - 1.0/720001, 5.857},
		{"1000 h, 1 h", 1000 * time.Hour, time.Hour, 1000.0 / 1001, 3.0004},
		{"no repair time", time.Hour, 0, 1, math.Inf(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Availability(tt.mtbf, tt.mttr)
			if math.Abs(a-tt.want) > 1e-12 {
				t.Errorf("Availability = %.12f, want %.12f", a, tt.want)
			}
			if n := Nines(a); math.Abs(n-tt.nines) > 1e-3 && !(math.IsInf(n, 1) && math.IsInf(tt.nines, 1)) {
				t.Errorf("Nines = %.4f, want %.4f", n, tt.nines)
			}
		})
	}
	if got, want := DowntimePerYear(Availability(720*time.Hour, 3600*time.Millisecond)), 43*time.Second+800*time.Millisecond; got.Round(100*time.Millisecond) != want {
		t.Errorf("DowntimePerYear = %s, want %s", got, want)
	}
}
