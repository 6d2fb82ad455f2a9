package metrics

import (
	"context"
	"strings"
	"testing"

	"github.com/havsd/havsd/director"
)

func TestScrapeTrackers(t *testing.T) {
	st := status()
	st.Trackers = []director.TrackerStatus{
		{Kind: "vrrp_script", Name: "chk", State: "failed", UsedBy: []director.TrackerUse{{Instance: "VI_1", Weight: -50, Delta: -50}}},
		{Kind: "track_file", Name: "maint", State: "ok", Value: 3, UsedBy: []director.TrackerUse{{Instance: "VI_1", Weight: 1, Delta: 3}}},
		{Kind: "track_process", Name: "web", State: "unknown", UsedBy: []director.TrackerUse{{Instance: "VI_1", Fault: false}}},
	}
	m := New(func(context.Context) (director.Status, error) { return st, nil })
	got := scrape(t, m)
	for _, want := range []string{
		`havsd_tracker_up{kind="vrrp_script",name="chk"} 0`,
		`havsd_tracker_up{kind="track_file",name="maint"} 1`,
		`havsd_tracker_value{kind="track_file",name="maint"} 3`,
		`havsd_tracker_value{kind="track_process",name="web"} 0`,
		`havsd_tracker_priority_delta{kind="vrrp_script",name="chk",vrrp_instance="VI_1"} -50`,
		`havsd_tracker_fault{kind="track_process",name="web",vrrp_instance="VI_1"} 0`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(got, `havsd_tracker_up{kind="track_process"`) {
		t.Error("a tracker without a result has havsd_tracker_up")
	}
}
