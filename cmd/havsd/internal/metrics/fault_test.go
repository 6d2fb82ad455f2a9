package metrics

import "testing"

// TestFaultClass maps the fault reasons vrrp and the director write to
// their bounded metric classes.
func TestFaultClass(t *testing.T) {
	tests := []struct{ reason, want string }{
		{"interface eth1 does not exist", "interface_missing"},
		{"interface eth1 is down", "interface_down"},
		{"tracked interface bond0 does not exist", "tracked_interface"},
		{"tracked interface bond0 is down", "tracked_interface"},
		{"tracked interface down", "tracked_interface"},
		{"another member of the sync group is in FAULT", "sync_group"},
		{"no primary IPv4 address on eth1", "no_address"},
		{"setting up VRRP socket on eth1: permission denied", "socket"},
		{"socket not open yet", "socket"},
		{"reading advert: use of closed network connection", "socket"},
		{"script chk_nginx failed (exit 1)", "tracker"},
		{"file /run/x failed", "tracker"},
		{"", "other"},
		{"something new", "other"},
	}
	for _, tt := range tests {
		if got := faultClass(tt.reason); got != tt.want {
			t.Errorf("faultClass(%q) = %q, want %q", tt.reason, got, tt.want)
		}
	}
}
