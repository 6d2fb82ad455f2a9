package conf

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

var cmpAddrs = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func mustLoad(t *testing.T, src string) *Config {
	t.Helper()
	cfg, s, diags := LoadBytes("test.hcl", []byte(src))
	if diags.HasErrors() || cfg == nil {
		var b []byte
		buf := &bytesWriter{&b}
		s.WriteDiagnostics(buf, diags, false)
		t.Fatalf("LoadBytes:\n%s", b)
	}
	return cfg
}

type bytesWriter struct{ b *[]byte }

func (w *bytesWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

// TestDefaults checks the keepalived/ipvsadm defaults a minimal config gets.
func TestDefaults(t *testing.T) {
	cfg := mustLoad(t, `
vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["172.25.254.100/24", "172.25.254.101"]
}
virtual_service "web" {
  address = "172.25.254.100:80"
  check "tcp" {}
  real_server "192.168.0.101" {}
  real_server "192.168.0.102:8080" {
    check "http" { port = 8081 }
  }
}`)
	want := &Config{
		Global: Global{ControlSocket: DefaultControlSocket, LogFormat: "text", LogLevel: "info",
			IPVSMode: IPVSAlways, ReconcileInterval: 10 * time.Second, SetSysctls: true},
		Instances: []vrrp.Config{{Name: "VI_1", Interface: "eth0", VRID: 51, Priority: 100, Version: 2,
			AdvertInterval: time.Second, Preempt: true,
			VIPs: []vrrp.VIP{{Prefix: netip.MustParsePrefix("172.25.254.100/24")}, {Prefix: netip.MustParsePrefix("172.25.254.101/32")}},
			GARP: vrrp.GARP{Count: 5, RepeatDelay: 5 * time.Second, RepeatCount: 5}}},
		Services: []VirtualService{{Name: "web",
			Service: lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: netip.MustParseAddr("172.25.254.100"), Port: 80}, Scheduler: "wlc"},
			Reals: []RealServer{
				{Dest: lvs.Destination{Addr: netip.MustParseAddr("192.168.0.101"), Port: 80, Weight: 1, Forward: lvs.Masq},
					Checks: []checks.Spec{{Kind: checks.KindTCP, Target: netip.MustParseAddrPort("192.168.0.101:80"),
						Interval: time.Minute, Timeout: 5 * time.Second, Retry: 2, Rise: 1, DelayBeforeRetry: time.Second}}},
				{Dest: lvs.Destination{Addr: netip.MustParseAddr("192.168.0.102"), Port: 8080, Weight: 1, Forward: lvs.Masq},
					Checks: []checks.Spec{{Kind: checks.KindHTTP, Target: netip.MustParseAddrPort("192.168.0.102:8081"),
						Interval: time.Minute, Timeout: 5 * time.Second, Retry: 2, Rise: 1, DelayBeforeRetry: 3 * time.Second,
						HTTP: &checks.HTTPSpec{Path: "/"}}}},
			},
			Announce: AnnounceVRRP}},
	}
	if diff := cmp.Diff(want, cfg, cmpAddrs, cmpopts.EquateComparable(netip.Prefix{}, netip.AddrPort{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCompileFwmarkAndFullNAT(t *testing.T) {
	cfg := mustLoad(t, `
virtual_service "fw" {
  fwmark = 66
  family = "ipv6"
  scheduler = "sh"
  sched_flags = ["sh-port", "sh-fallback"]
  persistence = "3000s"
  persistence_netmask = 64
  classify {
    address = "2001:db8::100"
    ports = [80, 443]
  }
  classify {
    address = "2001:db8::100"
    protocol = "udp"
  }
  real_server "2001:db8::1" { forward = "dr" }
  real_server "[2001:db8::2]:8080" {
    forward = "fullnat"
    snat_source = "2001:db8::fe"
    weight = 0
  }
  sorry_server "[2001:db8::99]:80" {}
}`)
	s := cfg.Services[0]
	if s.Service.Key.FWMark != 66 || s.Service.Key.Family != lvs.IPv6 || s.Service.NetmaskBits != 64 ||
		s.Service.Flags != lvs.FlagPort|lvs.FlagFallback || s.Service.Timeout != 3000*time.Second {
		t.Errorf("service = %+v", s.Service)
	}
	if r := s.Reals[1]; !r.FullNAT || r.Dest.Forward != lvs.Masq || r.Dest.Port != 8080 || r.Dest.Weight != 0 || r.SNATSource != netip.MustParseAddr("2001:db8::fe") {
		t.Errorf("fullnat real = %+v", r)
	}
	if s.Sorry == nil || s.Sorry.Dest.Port != 80 {
		t.Errorf("sorry = %+v", s.Sorry)
	}
	wantMarks := []lvs.MarkRule{
		{Mark: 66, Addr: netip.MustParseAddr("2001:db8::100"), Proto: lvs.TCP, Ports: []uint16{80, 443}},
		{Mark: 66, Addr: netip.MustParseAddr("2001:db8::100"), Proto: lvs.UDP},
	}
	if diff := cmp.Diff(wantMarks, cfg.Marks, cmpAddrs); diff != "" {
		t.Errorf("marks (-want +got):\n%s", diff)
	}
}
