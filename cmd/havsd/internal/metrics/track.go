package metrics

import (
	"github.com/havsd/havsd/director"
	"github.com/prometheus/client_golang/prometheus"
)

// The vrrp_script, track_file and track_process trackers.
var (
	descTrackerUp = prometheus.NewDesc("havsd_tracker_up",
		"1 while a tracker passes, 0 while it fails; absent before its first result.", []string{"kind", "name"}, nil)
	descTrackerValue = prometheus.NewDesc("havsd_tracker_value",
		"A track_file's value or a track_process's process count.", []string{"kind", "name"}, nil)
	descTrackerDelta = prometheus.NewDesc("havsd_tracker_priority_delta",
		"What a tracker adds to a VRRP instance's priority now.", []string{"kind", "name", "vrrp_instance"}, nil)
	descTrackerFault = prometheus.NewDesc("havsd_tracker_fault",
		"1 while a tracker (weight 0) holds a VRRP instance in FAULT.", []string{"kind", "name", "vrrp_instance"}, nil)
)

var trackerDescs = []*prometheus.Desc{descTrackerUp, descTrackerValue, descTrackerDelta, descTrackerFault}

func collectTrackers(ch chan<- prometheus.Metric, ts []director.TrackerStatus) {
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	for _, t := range ts {
		if t.State != "unknown" {
			gauge(descTrackerUp, b2f(t.State == "ok"), t.Kind, t.Name)
		}
		if t.Kind != "vrrp_script" {
			gauge(descTrackerValue, float64(t.Value), t.Kind, t.Name)
		}
		for _, u := range t.UsedBy {
			gauge(descTrackerDelta, float64(u.Delta), t.Kind, t.Name, u.Instance)
			gauge(descTrackerFault, b2f(u.Fault), t.Kind, t.Name, u.Instance)
		}
	}
}
