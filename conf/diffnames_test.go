package conf

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

func TestFieldNames(t *testing.T) {
	a := vrrp.Config{Name: "VI_1", Interface: "eth0", VRID: 51, Priority: 100, Version: 3, AdvertInterval: time.Second, Preempt: true}
	b := a
	b.VRID, b.Priority, b.AdvertInterval, b.PreemptDelay = 61, 150, 100*time.Millisecond, time.Second
	b.VIPs = []vrrp.VIP{{}}
	want := []string{"virtual_router_id", "priority", "advert_interval", "virtual_ipaddress", "preempt_delay"}
	if diff := cmp.Diff(want, InstanceFields(a, b)); diff != "" {
		t.Errorf("InstanceFields (-want +got):\n%s", diff)
	}
	if got := InstanceFields(a, a); len(got) != 0 {
		t.Errorf("InstanceFields of equal configs = %q", got)
	}
	r := RealServer{Dest: lvs.Destination{Weight: 1, Forward: lvs.Masq}}
	s := r
	s.Dest.Weight, s.FullNAT, s.Dest.UpperThreshold = 2, true, 10
	s.Dest.ActiveConns = 5 // not a setting
	if diff := cmp.Diff([]string{"weight", "upper_threshold", "forward"}, RealFields(r, s)); diff != "" {
		t.Errorf("RealFields (-want +got):\n%s", diff)
	}
	for in, want := range map[string]string{"AdvertInterval": "advert_interval", "UnicastPeers": "unicast_peers", "DontTrackPrimary": "dont_track_primary", "IPVSMode": "ipvs_mode"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
