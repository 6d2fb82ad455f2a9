package conf

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/lvs"
)

const diffBase = `
global {
  log_level = "info"
}
vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["172.25.254.100/24"]
}
vrrp_instance "VI_2" {
  interface = "eth1"
  virtual_router_id = 52
  virtual_ipaddress = ["192.168.0.1/24"]
}
vrrp_sync_group "G" {
  instances = ["VI_1", "VI_2"]
}
virtual_service "web" {
  address = "172.25.254.100:80"
  scheduler = "rr"
  real_server "192.168.0.101:80" {}
  real_server "192.168.0.102:80" {}
}
virtual_service "fw" {
  fwmark = 66
  classify {
    address = "172.25.254.100"
    ports = [443]
  }
  real_server "192.168.0.101" { forward = "dr" }
}
`

func TestDiff(t *testing.T) {
	web := lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: netip.MustParseAddr("172.25.254.100"), Port: 80}
	fw := lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.ProtoNone, FWMark: 66}
	rs := func(s string) lvs.DestKey {
		ap := netip.MustParseAddrPort(s)
		return lvs.DestKey{Addr: ap.Addr(), Port: ap.Port()}
	}
	tests := []struct {
		name string
		edit func(string) string
		want Changes
	}{
		{"identical", func(s string) string { return s }, Changes{}},
		{"log level", func(s string) string { return strings.Replace(s, `"info"`, `"debug"`, 1) },
			Changes{Global: []string{"log_level"}}},
		{"scheduler", func(s string) string { return strings.Replace(s, `"rr"`, `"wrr"`, 1) },
			Changes{ChangedServices: []ServiceChange{{Key: web, Attrs: []string{"scheduler"}}}}},
		{"renamed service only", func(s string) string { return strings.Replace(s, `"web"`, `"www"`, 1) },
			Changes{ChangedServices: []ServiceChange{{Key: web, Attrs: []string{"name"}}}}},
		{"reals added, removed, changed", func(s string) string {
			s = strings.Replace(s, `real_server "192.168.0.101:80" {}`, `real_server "192.168.0.101:80" { weight = 3 }`, 1)
			s = strings.Replace(s, `real_server "192.168.0.102:80" {}`, `real_server "192.168.0.103:80" {}`, 1)
			return s
		}, Changes{ChangedServices: []ServiceChange{{Key: web,
			AddedReals: []lvs.DestKey{rs("192.168.0.103:80")}, RemovedReals: []lvs.DestKey{rs("192.168.0.102:80")},
			ChangedReals: []lvs.DestKey{rs("192.168.0.101:80")}}}}},
		{"quorum and sorry server", func(s string) string {
			return strings.Replace(s, `scheduler = "rr"`, `scheduler = "rr"
  quorum = 1
  sorry_server "192.168.0.200:80" {}`, 1)
		}, Changes{ChangedServices: []ServiceChange{{Key: web, Attrs: []string{"quorum", "sorry_server"}}}}},
		{"classification and fwmark service", func(s string) string {
			s = strings.Replace(s, "ports = [443]", "ports = [443, 80]", 1)
			return strings.Replace(s, "fwmark = 66", "fwmark = 67", 1)
		}, Changes{Marks: true, AddedServices: []lvs.ServiceKey{{Family: lvs.IPv4, Proto: lvs.ProtoNone, FWMark: 67}}, RemovedServices: []lvs.ServiceKey{fw}}},
		{"sync group", func(s string) string { return strings.Replace(s, `["VI_1", "VI_2"]`, `["VI_2"]`, 1) },
			Changes{SyncGroups: true}},
	}
	old := mustLoad(t, diffBase)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(old, mustLoad(t, tt.edit(diffBase)))
			if diff := cmp.Diff(tt.want, got, cmpAddrs); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if got.Empty() != (tt.name == "identical") {
				t.Errorf("Empty() = %v", got.Empty())
			}
		})
	}
}

func TestDiffNil(t *testing.T) {
	cfg := mustLoad(t, diffBase)
	c := Diff(nil, cfg)
	if len(c.AddedServices) != 2 || !c.Marks || !c.SyncGroups {
		t.Errorf("Diff(nil, cfg) = %+v", c)
	}
	c = Diff(cfg, nil)
	if len(c.RemovedServices) != 2 {
		t.Errorf("Diff(cfg, nil) = %+v", c)
	}
	// Sorted by key: the plain service before the fwmark one.
	if c.RemovedServices[0].FWMark != 0 {
		t.Errorf("RemovedServices not in key order: %v", c.RemovedServices)
	}
}
