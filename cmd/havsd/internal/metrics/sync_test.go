package metrics

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/havsd/havsd/director"
)

// TestScrapeSync: the sync daemons appear with their role, interface and
// sync id (a stopped wanted daemon as 0), and their names are in the README.
func TestScrapeSync(t *testing.T) {
	st := status()
	st.Sync = &director.SyncStatus{Instance: "VI_1", State: "master", Restarts: 2, Daemons: []director.SyncDaemonStatus{
		{Role: "master", Interface: "eth1", SyncID: 51, Wanted: true, Running: true},
		{Role: "backup", Interface: "eth1", SyncID: 51, Wanted: true},
	}}
	got := scrape(t, New(func(context.Context) (director.Status, error) { return st, nil }))
	for _, want := range []string{
		`havsd_ipvs_sync_daemon_running{interface="eth1",role="master",sync_id="51"} 1`,
		`havsd_ipvs_sync_daemon_running{interface="eth1",role="backup",sync_id="51"} 0`,
		`havsd_ipvs_sync_restarts_total 2`,
		`havsd_ipvs_sync_errors_total 0`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	readme, err := os.ReadFile("../../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"havsd_ipvs_sync_daemon_running", "havsd_ipvs_sync_restarts_total", "havsd_ipvs_sync_errors_total"} {
		if !strings.Contains(string(readme), "`"+name) {
			t.Errorf("%s is not in README.md", name)
		}
	}
}
