package metrics

import (
	"context"
	"strings"
	"testing"

	"github.com/havsd/havsd/director"
)

func TestScrapeBGP(t *testing.T) {
	st := status()
	st.BGP = &director.BGPStatus{ASN: 65001, Running: true,
		Neighbors: []director.BGPNeighborStatus{{Address: "10.0.0.1", State: "established", UptimeSeconds: 42,
			MsgsSent: 5, MsgsReceived: 6, UpdatesSent: 2, UpdatesReceived: 1}},
		VIPs: []director.BGPVIPStatus{
			{Prefix: "192.0.2.10/32", State: "announced", InSpeaker: true},
			{Prefix: "192.0.2.11/32", State: "withdrawn"},
			{Prefix: "192.0.2.12/32", State: "graceful_shutdown", InSpeaker: true}},
		Drain: &director.BGPWaitStatus{}}
	got := scrape(t, New(func(context.Context) (director.Status, error) { return st, nil }))
	for _, want := range []string{
		`havsd_bgp_session_established{neighbor="10.0.0.1"} 1`,
		`havsd_bgp_session_state{neighbor="10.0.0.1",state="established"} 1`,
		`havsd_bgp_session_state{neighbor="10.0.0.1",state="idle"} 0`,
		`havsd_bgp_session_uptime_seconds{neighbor="10.0.0.1"} 42`,
		`havsd_bgp_messages_total{direction="received",neighbor="10.0.0.1"} 6`,
		`havsd_bgp_updates_total{direction="sent",neighbor="10.0.0.1"} 2`,
		`havsd_bgp_vip_announced{vip="192.0.2.10/32"} 1`,
		`havsd_bgp_vip_announced{vip="192.0.2.11/32"} 0`,
		`havsd_bgp_vip_announced{vip="192.0.2.12/32"} 1`,
		`havsd_bgp_vip_in_speaker{vip="192.0.2.11/32"} 0`,
		`havsd_bgp_drained 1`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("scrape lacks %s", want)
		}
	}
	st.BGP = nil
	if got := scrape(t, New(func(context.Context) (director.Status, error) { return st, nil })); strings.Contains(got, "havsd_bgp_") {
		t.Errorf("a director without a bgp block exports BGP series:\n%s", got)
	}
}
