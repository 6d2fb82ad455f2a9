package metrics

import "github.com/prometheus/client_golang/prometheus"

// WatchLogDrops exports how many log lines havsd dropped because the log's
// reader did not keep up (the log queue never blocks the daemon).
func (m *Metrics) WatchLogDrops(dropped func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "havsd_log_lines_dropped_total",
		Help: "Log lines dropped because the log's reader (journald, a pipe, a disk) did not keep up; the daemon never waits on its log.",
	}, func() float64 { return float64(dropped()) }))
}
