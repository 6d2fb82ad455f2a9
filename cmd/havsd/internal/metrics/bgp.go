package metrics

import (
	"github.com/havsd/havsd/director"
	"github.com/prometheus/client_golang/prometheus"
)

// The BGP speaker's sessions and the announcement of each BGP VIP, as
// `havsd status` reads them from the speaker.
var (
	descBGPSessionUp = prometheus.NewDesc("havsd_bgp_session_established",
		"1 while the BGP session with a neighbour is established, else 0.", []string{"neighbor"}, nil)
	descBGPSessionState = prometheus.NewDesc("havsd_bgp_session_state",
		"BGP FSM state of a neighbour's session: 1 for the current state, 0 for the others.", []string{"neighbor", "state"}, nil)
	descBGPUptime = prometheus.NewDesc("havsd_bgp_session_uptime_seconds",
		"How long the BGP session has been established (0 when it is not).", []string{"neighbor"}, nil)
	descBGPMessages = prometheus.NewDesc("havsd_bgp_messages_total",
		"BGP messages exchanged with a neighbour, by direction.", []string{"neighbor", "direction"}, nil)
	descBGPUpdates = prometheus.NewDesc("havsd_bgp_updates_total",
		"BGP UPDATE messages exchanged with a neighbour, by direction.", []string{"neighbor", "direction"}, nil)
	descBGPAnnounced = prometheus.NewDesc("havsd_bgp_vip_announced",
		"1 while this director announces the VIP over BGP (also while it is re-announced with GRACEFUL_SHUTDOWN), 0 while it is withdrawn.", []string{"vip"}, nil)
	descBGPInSpeaker = prometheus.NewDesc("havsd_bgp_vip_in_speaker",
		"1 when the speaker's own table holds the VIP's route (read back from it).", []string{"vip"}, nil)
	descBGPDrained = prometheus.NewDesc("havsd_bgp_drained",
		"1 while havsd drain holds every BGP route withdrawn (havsd undrain ends it), else 0.", nil, nil)
)

// bgpStates are the BGP FSM states havsd_bgp_session_state reports.
var bgpStates = []string{"idle", "connect", "active", "opensent", "openconfirm", "established"}

var bgpDescs = []*prometheus.Desc{descBGPSessionUp, descBGPSessionState, descBGPUptime, descBGPMessages, descBGPUpdates,
	descBGPAnnounced, descBGPInSpeaker, descBGPDrained}

func collectBGP(ch chan<- prometheus.Metric, st *director.BGPStatus) {
	if st == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
	}
	for _, n := range st.Neighbors {
		gauge(descBGPSessionUp, b2f(n.State == "established"), n.Address)
		for _, s := range bgpStates {
			gauge(descBGPSessionState, b2f(n.State == s), n.Address, s)
		}
		gauge(descBGPUptime, n.UptimeSeconds, n.Address)
		counter(descBGPMessages, float64(n.MsgsSent), n.Address, "sent")
		counter(descBGPMessages, float64(n.MsgsReceived), n.Address, "received")
		counter(descBGPUpdates, float64(n.UpdatesSent), n.Address, "sent")
		counter(descBGPUpdates, float64(n.UpdatesReceived), n.Address, "received")
	}
	for _, v := range st.VIPs {
		gauge(descBGPAnnounced, b2f(v.State != "withdrawn"), v.Prefix)
		gauge(descBGPInSpeaker, b2f(v.InSpeaker), v.Prefix)
	}
	gauge(descBGPDrained, b2f(st.Drain != nil))
}
