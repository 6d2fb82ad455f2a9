package metrics

import (
	"strconv"

	"github.com/havsd/havsd/director"
	"github.com/prometheus/client_golang/prometheus"
)

// The connection-sync daemons of ipvs_sync; present only when the
// configuration has the block or daemons run.
var (
	descSyncRunning = prometheus.NewDesc("havsd_ipvs_sync_daemon_running",
		"1 while an IPVS connection-sync daemon runs, 0 while a wanted one does not.", []string{"role", "interface", "sync_id"}, nil)
	descSyncRestarts = prometheus.NewDesc("havsd_ipvs_sync_restarts_total",
		"Sync daemons found stopped behind havsd's back and started again.", nil, nil)
	descSyncErrors = prometheus.NewDesc("havsd_ipvs_sync_errors_total",
		"Failed reads, starts and stops of sync daemons.", nil, nil)
)

var syncDescs = []*prometheus.Desc{descSyncRunning, descSyncRestarts, descSyncErrors}

func collectSync(ch chan<- prometheus.Metric, s *director.SyncStatus) {
	if s == nil {
		return
	}
	for _, d := range s.Daemons {
		ch <- prometheus.MustNewConstMetric(descSyncRunning, prometheus.GaugeValue, b2f(d.Running), d.Role, d.Interface, strconv.Itoa(d.SyncID))
	}
	ch <- prometheus.MustNewConstMetric(descSyncRestarts, prometheus.CounterValue, float64(s.Restarts))
	ch <- prometheus.MustNewConstMetric(descSyncErrors, prometheus.CounterValue, float64(s.Errors))
}
