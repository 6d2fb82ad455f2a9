package metrics

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/director"
)

// TestWatchChecks: the scheduler's load figures are scraped as they are
// at scrape time, and README names each series.
func TestWatchChecks(t *testing.T) {
	m := New(func(context.Context) (director.Status, error) { return status(), nil })
	st := checks.Stats{Stalls: 3, StallRetries: 7, StartLag: 1500 * time.Millisecond, InFlight: 12,
		InFlightLimit: 64, Probes: 4, Targets: 400}
	m.WatchChecks(func() checks.Stats { return st })
	got := scrape(t, m)
	for _, want := range []string{
		"havsd_check_stalls_total 3\n", "havsd_check_stall_retries_total 7\n", "havsd_check_start_lag_seconds 1.5\n",
		"havsd_checks_in_flight 12\n", "havsd_checks_in_flight_limit 64\n", "havsd_check_probes 4\n", "havsd_check_targets 400\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	readme, err := os.ReadFile("../../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"havsd_check_stalls_total", "havsd_check_stall_retries_total", "havsd_check_start_lag_seconds",
		"havsd_checks_in_flight", "havsd_checks_in_flight_limit", "havsd_check_probes", "havsd_check_targets"} {
		if !strings.Contains(got, "# TYPE "+d+" ") {
			t.Errorf("scrape lacks the type of %s", d)
		}
		if !strings.Contains(string(readme), "`"+d+"`") {
			t.Errorf("%s is not in README.md", d)
		}
	}
}
