package metrics

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/director"
)

var update = flag.Bool("update", false, "rewrite testdata/scrape.golden")

// status is a director status with one of everything.
func status() director.Status {
	return director.Status{
		LastReload: director.ReloadStatus{At: time.Unix(1700000000, 0), OK: true, Count: 2},
		Instances: []director.InstanceStatus{{
			Name: "VI_1", VRID: 51, State: "master", EffectivePriority: 150, Transitions: 3,
			AdvertsSent: 100, AdvertsReceived: 7, Drops: map[string]uint64{"ttl": 2},
		}, {
			Name: "VI_2", VRID: 52, State: "fault", FaultReason: "interface eth1 does not exist", EffectivePriority: 100,
		}, {
			Name: "VI_3", VRID: 53, State: "backup", EffectivePriority: 100, Yielding: &director.Yield{Since: time.Unix(1700000000, 0)},
		}},
		Services: []director.ServiceStatus{{
			Key: "tcp 172.25.254.100:80", Programmed: true, Wanted: true, QuorumUp: true,
			Conns: 10, PacketsIn: 20, PacketsOut: 30, BytesIn: 40, BytesOut: 50,
			Reals: []director.RealStatus{
				{Address: "192.168.0.101:80", Weight: 2, KernelWeight: 2, Health: "up", ActiveConns: 1, InactiveConns: 2, Conns: 3, BytesIn: 4, BytesOut: 5},
				{Address: "192.168.0.102:80", Weight: 1, KernelWeight: 0, Health: "down"},
			},
		}},
		IPVS: director.IPVSStatus{Available: true, Reconciles: 9, Ops: 8, Errors: 1},
	}
}

// scrape returns the havsd_ lines of one scrape of m.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var b strings.Builder
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE ")
		if strings.HasPrefix(name, "havsd_") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// TestScrapeGolden pins the names, labels, types and help of every havsd
// series: README documents them as stable. Run with -update after an
// intended change.
func TestScrapeGolden(t *testing.T) {
	m := New(func(context.Context) (director.Status, error) { return status(), nil })
	m.ObserveCheck("http", 3*time.Millisecond, nil)
	m.ObserveCheck("http", 70*time.Millisecond, errors.New("refused"))
	got := scrape(t, m)
	path := filepath.Join("testdata", "scrape.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("scrape differs from %s (-want +got):\n%s", path, diff)
	}
}

// TestScrapeNamesInREADME: every series the scrape shows is named in the
// README, so the stable list and the code cannot drift apart.
func TestScrapeNamesInREADME(t *testing.T) {
	readme, err := os.ReadFile("../../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := New(func(context.Context) (director.Status, error) { return status(), nil })
	m.ObserveCheck("tcp", time.Millisecond, nil)
	for line := range strings.Lines(scrape(t, m)) {
		if !strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		name := strings.Fields(line)[2]
		documented := strings.Contains(string(readme), "`"+name+"`") || strings.Contains(string(readme), "`"+name+"{")
		if strings.HasPrefix(name, "havsd_ipvs_service_") {
			documented = strings.Contains(string(readme), "`havsd_ipvs_service_*`")
		}
		if !documented {
			t.Errorf("%s is not in README.md", name)
		}
	}
}

// TestScrapeError: a director that does not answer makes the scrape fail
// visibly instead of serving nothing.
func TestScrapeError(t *testing.T) {
	m := New(func(context.Context) (director.Status, error) {
		return director.Status{}, errors.New("director stopped")
	})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "director stopped") {
		t.Errorf("scrape of a failing director: %d %q, want 500 naming the error", rec.Code, rec.Body.String())
	}
}
