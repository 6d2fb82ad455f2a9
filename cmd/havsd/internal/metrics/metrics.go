// Package metrics exposes the director's state to Prometheus. Gauges and
// counters are read from a status snapshot at scrape time, so they always
// match what `havsd status` says; check latencies are observed as they happen.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/director"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Snapshot returns the director's current status.
type Snapshot func(ctx context.Context) (director.Status, error)

// Metrics owns havsd's registry.
type Metrics struct {
	reg          *prometheus.Registry
	checkLatency *prometheus.HistogramVec
	checkResults *prometheus.CounterVec
}

// New returns metrics reading state from snap. It does no I/O.
func New(snap Snapshot) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		checkLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "havsd_check_duration_seconds",
			Help:    "Duration of health checks by kind.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"kind"}),
		checkResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "havsd_checks_total",
			Help: "Health checks run, by kind and outcome (success, failure, timeout: a failure by timing out).",
		}, []string{"kind", "outcome"}),
	}
	m.reg.MustRegister(m.checkLatency, m.checkResults, &collector{snap: snap},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveCheck records one health check's latency and outcome.
func (m *Metrics) ObserveCheck(kind string, latency time.Duration, err error) {
	m.checkLatency.WithLabelValues(kind).Observe(latency.Seconds())
	outcome := "success"
	switch {
	case errors.Is(err, checks.ErrTimeout):
		outcome = "timeout"
	case err != nil:
		outcome = "failure"
	}
	m.checkResults.WithLabelValues(kind, outcome).Inc()
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Serve listens on addr and serves /metrics until ctx is done.
func (m *Metrics) Serve(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("serving metrics", "component", "metrics", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

var (
	descVRRPState = prometheus.NewDesc("havsd_vrrp_state",
		"VRRP state of an instance: 1 for the current state, 0 for the others.", []string{"vrrp_instance", "vrid", "state"}, nil)
	descVRRPPriority = prometheus.NewDesc("havsd_vrrp_priority",
		"Effective VRRP priority of an instance.", []string{"vrrp_instance", "vrid"}, nil)
	descVRRPTransitions = prometheus.NewDesc("havsd_vrrp_transitions_total",
		"VRRP state transitions of an instance.", []string{"vrrp_instance", "vrid"}, nil)
	descAdvertsSent = prometheus.NewDesc("havsd_vrrp_adverts_sent_total",
		"VRRP adverts sent.", []string{"vrrp_instance", "vrid"}, nil)
	descAdvertsRecv = prometheus.NewDesc("havsd_vrrp_adverts_received_total",
		"Valid VRRP adverts received.", []string{"vrrp_instance", "vrid"}, nil)
	descVIPsMissing = prometheus.NewDesc("havsd_vrrp_vips_missing",
		"Virtual addresses the instance's state wants that the kernel does not have (repaired at once: non-zero while a repair fails).", []string{"vrrp_instance", "vrid"}, nil)
	descVIPsUnexpected = prometheus.NewDesc("havsd_vrrp_vips_unexpected",
		"Virtual addresses the kernel has that the instance's state does not want (a backup holding them).", []string{"vrrp_instance", "vrid"}, nil)
	descPeerMismatch = prometheus.NewDesc("havsd_vrrp_peer_vip_mismatch",
		"Peers whose adverts carry another virtual address list than this instance's.", []string{"vrrp_instance", "vrid"}, nil)
	descYielding = prometheus.NewDesc("havsd_vrrp_yielding",
		"1 while a backup does not preempt after a handover (havsd resume, yield_timeout or the next handover back ends it), else 0.", []string{"vrrp_instance", "vrid"}, nil)
	descFault = prometheus.NewDesc("havsd_vrrp_fault",
		"1 while the instance is in FAULT, labelled with the class of its reason (interface_missing, interface_down, tracked_interface, no_address, socket, sync_group, tracker, other); absent otherwise.", []string{"vrrp_instance", "vrid", "reason"}, nil)
	descDrops = prometheus.NewDesc("havsd_vrrp_drops_total",
		"VRRP packets dropped, by reason.", []string{"vrrp_instance", "vrid", "reason"}, nil)
	descSvcConns = prometheus.NewDesc("havsd_ipvs_service_connections_total",
		"Connections scheduled by a virtual service (IPVS counter).", []string{"service"}, nil)
	descSvcPackets = prometheus.NewDesc("havsd_ipvs_service_packets_total",
		"Packets through a virtual service (IPVS counters).", []string{"service", "direction"}, nil)
	descSvcBytes = prometheus.NewDesc("havsd_ipvs_service_bytes_total",
		"Bytes through a virtual service (IPVS counters).", []string{"service", "direction"}, nil)
	descSvcProgrammed = prometheus.NewDesc("havsd_ipvs_service_programmed",
		"1 when the virtual service is in the kernel table.", []string{"service"}, nil)
	descSvcQuorum = prometheus.NewDesc("havsd_service_quorum_up",
		"1 while the service has quorum, 0 while the sorry server is in use or no real server is alive.", []string{"service"}, nil)
	descRealWeight = prometheus.NewDesc("havsd_real_weight",
		"Weight of a real server as programmed in the kernel (-1 when absent).", []string{"service", "real"}, nil)
	descRealConfigured = prometheus.NewDesc("havsd_real_configured_weight",
		"Weight of a real server as configured.", []string{"service", "real"}, nil)
	descRealHealth = prometheus.NewDesc("havsd_real_up",
		"1 when the real server passes its checks (or has none), 0 when it fails them; absent before its first check result.", []string{"service", "real"}, nil)
	descRealActive = prometheus.NewDesc("havsd_real_active_connections",
		"Active connections to a real server.", []string{"service", "real"}, nil)
	descRealInactive = prometheus.NewDesc("havsd_real_inactive_connections",
		"Inactive connections to a real server.", []string{"service", "real"}, nil)
	descRealConns = prometheus.NewDesc("havsd_real_connections_total",
		"Connections scheduled to a real server (IPVS counter).", []string{"service", "real"}, nil)
	descRealBytes = prometheus.NewDesc("havsd_real_bytes_total",
		"Bytes to and from a real server (IPVS counters).", []string{"service", "real", "direction"}, nil)
	descReconciles = prometheus.NewDesc("havsd_reconcile_runs_total", "IPVS reconcile passes.", nil, nil)
	descReconOps   = prometheus.NewDesc("havsd_reconcile_operations_total", "IPVS write operations applied.", nil, nil)
	descReconErrs  = prometheus.NewDesc("havsd_reconcile_errors_total", "IPVS reconcile errors.", nil, nil)
	descIPVSAvail  = prometheus.NewDesc("havsd_ipvs_available", "1 when the kernel has IPVS.", nil, nil)
	descReloadOK   = prometheus.NewDesc("havsd_last_reload_success",
		"1 when the last reload applied, 0 when it was rejected; absent before the first reload.", nil, nil)
	descReloadTime = prometheus.NewDesc("havsd_last_reload_timestamp_seconds",
		"Unix time of the last reload attempt.", nil, nil)
	descReloads = prometheus.NewDesc("havsd_reloads_total", "Reload attempts.", nil, nil)
)

type collector struct{ snap Snapshot }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descVRRPState, descVRRPPriority, descVRRPTransitions, descAdvertsSent, descAdvertsRecv,
		descVIPsMissing, descVIPsUnexpected, descPeerMismatch, descYielding, descFault,
		descDrops, descSvcConns, descSvcPackets, descSvcBytes, descSvcProgrammed, descSvcQuorum, descRealWeight, descRealConfigured,
		descRealHealth, descRealActive, descRealInactive, descRealConns, descRealBytes, descReconciles, descReconOps, descReconErrs,
		descIPVSAvail, descReloadOK, descReloadTime, descReloads} {
		ch <- d
	}
	for _, d := range syncDescs {
		ch <- d
	}
	for _, d := range trackerDescs {
		ch <- d
	}
	for _, d := range bgpDescs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.snap(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descReconciles, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
	}
	for _, in := range st.Instances {
		vrid := strconv.Itoa(in.VRID)
		for _, s := range director.InstanceStates() {
			gauge(descVRRPState, b2f(in.State == s), in.Name, vrid, s)
		}
		gauge(descVRRPPriority, float64(in.EffectivePriority), in.Name, vrid)
		counter(descVRRPTransitions, float64(in.Transitions), in.Name, vrid)
		counter(descAdvertsSent, float64(in.AdvertsSent), in.Name, vrid)
		counter(descAdvertsRecv, float64(in.AdvertsReceived), in.Name, vrid)
		gauge(descVIPsMissing, float64(len(in.MissingVIPs)), in.Name, vrid)
		gauge(descVIPsUnexpected, float64(len(in.UnexpectedVIPs)), in.Name, vrid)
		gauge(descPeerMismatch, float64(len(in.PeerVIPMismatch)), in.Name, vrid)
		gauge(descYielding, b2f(in.Yielding != nil), in.Name, vrid)
		if in.State == "fault" {
			gauge(descFault, 1, in.Name, vrid, faultClass(in.FaultReason))
		}
		for reason, n := range in.Drops {
			counter(descDrops, float64(n), in.Name, vrid, reason)
		}
	}
	for _, s := range st.Services {
		counter(descSvcConns, float64(s.Conns), s.Key)
		counter(descSvcPackets, float64(s.PacketsIn), s.Key, "in")
		counter(descSvcPackets, float64(s.PacketsOut), s.Key, "out")
		counter(descSvcBytes, float64(s.BytesIn), s.Key, "in")
		counter(descSvcBytes, float64(s.BytesOut), s.Key, "out")
		gauge(descSvcProgrammed, b2f(s.Programmed), s.Key)
		gauge(descSvcQuorum, b2f(s.QuorumUp), s.Key)
		for _, r := range s.Reals {
			gauge(descRealWeight, float64(r.KernelWeight), s.Key, r.Address)
			gauge(descRealConfigured, float64(r.Weight), s.Key, r.Address)
			if r.Health != "unknown" { // no check result yet: no value
				gauge(descRealHealth, b2f(r.Health != "down"), s.Key, r.Address)
			}
			gauge(descRealActive, float64(r.ActiveConns), s.Key, r.Address)
			gauge(descRealInactive, float64(r.InactiveConns), s.Key, r.Address)
			counter(descRealConns, float64(r.Conns), s.Key, r.Address)
			counter(descRealBytes, float64(r.BytesIn), s.Key, r.Address, "in")
			counter(descRealBytes, float64(r.BytesOut), s.Key, r.Address, "out")
		}
	}
	counter(descReconciles, float64(st.IPVS.Reconciles))
	counter(descReconOps, float64(st.IPVS.Ops))
	counter(descReconErrs, float64(st.IPVS.Errors))
	gauge(descIPVSAvail, b2f(st.IPVS.Available))
	collectSync(ch, st.Sync)
	collectTrackers(ch, st.Trackers)
	collectBGP(ch, st.BGP)
	if st.LastReload.Count > 0 { // no reload yet: no outcome, as status --json says (null)
		gauge(descReloadOK, b2f(st.LastReload.OK))
		gauge(descReloadTime, float64(st.LastReload.At.UnixNano())/1e9)
	}
	counter(descReloads, float64(st.LastReload.Count))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
