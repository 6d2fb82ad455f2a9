package metrics

import (
	"github.com/havsd/havsd/checks"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	descCheckStalls = prometheus.NewDesc("havsd_check_stalls_total",
		"Times the health checker found itself stalled (its timers late: descheduled, paused, short of CPU).", nil, nil)
	descCheckStallRetries = prometheus.NewDesc("havsd_check_stall_retries_total",
		"Check results discarded and retried because the check timed out while the checker was stalled.", nil, nil)
	descCheckLag = prometheus.NewDesc("havsd_check_start_lag_seconds",
		"How late the latest due check started: the amount by which overload stretches the check interval.", nil, nil)
	descCheckInFlight = prometheus.NewDesc("havsd_checks_in_flight",
		"Health checks running now.", nil, nil)
	descCheckLimit = prometheus.NewDesc("havsd_checks_in_flight_limit",
		"Bound on running checks now (halved after a stall, grown back as checks finish cleanly); 0 for none.", nil, nil)
	descCheckProbes = prometheus.NewDesc("havsd_check_probes",
		"Distinct checks run: identical checks of one real server by several services run once.", nil, nil)
	descCheckTargets = prometheus.NewDesc("havsd_check_targets",
		"Checked real servers of services.", nil, nil)
)

// WatchChecks adds the check scheduler's load figures, read from stats at
// scrape time.
func (m *Metrics) WatchChecks(stats func() checks.Stats) {
	m.reg.MustRegister(checkCollector{stats})
}

type checkCollector struct{ stats func() checks.Stats }

func (c checkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCheckStalls, descCheckStallRetries, descCheckLag,
		descCheckInFlight, descCheckLimit, descCheckProbes, descCheckTargets} {
		ch <- d
	}
}

func (c checkCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	ch <- prometheus.MustNewConstMetric(descCheckStalls, prometheus.CounterValue, float64(st.Stalls))
	ch <- prometheus.MustNewConstMetric(descCheckStallRetries, prometheus.CounterValue, float64(st.StallRetries))
	ch <- prometheus.MustNewConstMetric(descCheckLag, prometheus.GaugeValue, st.StartLag.Seconds())
	ch <- prometheus.MustNewConstMetric(descCheckInFlight, prometheus.GaugeValue, float64(st.InFlight))
	ch <- prometheus.MustNewConstMetric(descCheckLimit, prometheus.GaugeValue, float64(st.InFlightLimit))
	ch <- prometheus.MustNewConstMetric(descCheckProbes, prometheus.GaugeValue, float64(st.Probes))
	ch <- prometheus.MustNewConstMetric(descCheckTargets, prometheus.GaugeValue, float64(st.Targets))
}
