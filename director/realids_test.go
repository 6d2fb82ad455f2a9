package director

import (
	"net/netip"
	"testing"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
)

func TestParseRealID(t *testing.T) {
	dest := func(s string) lvs.DestKey {
		ap := netip.MustParseAddrPort(s)
		return lvs.DestKey{Addr: ap.Addr(), Port: ap.Port()}
	}
	keys := []RealKey{
		{lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}, dest("192.168.0.10:8080")},
		{lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.UDP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 53}, dest("192.168.0.10:53")},
		{lvs.ServiceKey{Family: lvs.IPv6, Proto: lvs.SCTP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 9}, dest("[2001:db8::10]:9")},
		{lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.ProtoNone, FWMark: 66}, dest("192.168.0.10:0")},
		{lvs.ServiceKey{Family: lvs.IPv6, Proto: lvs.ProtoNone, FWMark: 7}, dest("[fe80::1%eth0]:80")},
	}
	for _, k := range keys {
		if got, ok := ParseRealID(k.String()); !ok || got != k {
			t.Errorf("ParseRealID(%q) = %+v, %v; want %+v", k.String(), got, ok, k)
		}
	}
	for _, bad := range []string{"", "tcp 10.0.0.1:80", "tcp 10.0.0.1:80/x", "icmp 10.0.0.1:80/10.0.0.2:80",
		"fwmark 0/10.0.0.2:80", "fwmark x/10.0.0.2:80", "tcp10.0.0.1:80/10.0.0.2:80"} {
		if k, ok := ParseRealID(bad); ok {
			t.Errorf("ParseRealID(%q) = %+v, want no key", bad, k)
		}
	}
}

// The director finds a checked real server by its ID; an ID of a real
// server without checks, or of another configuration, names none; an ID
// that does not parse back to its key is still found.
func TestRealIDsLookup(t *testing.T) {
	cfg := bigConfig(3)
	cfg.Services[1].Reals[2].Checks = nil
	odd := lvs.ServiceKey{Family: lvs.FamilyInvalid, Proto: lvs.ProtoNone, FWMark: 9} // prints as an IPv4 mark
	cfg.Services = append(cfg.Services, conf.VirtualService{Service: lvs.Service{Key: odd}, Reals: []conf.RealServer{{
		Dest:   lvs.Destination{Addr: netip.MustParseAddr("10.9.9.9"), Port: 80},
		Checks: []checks.Spec{{Kind: checks.KindTCP, Target: netip.MustParseAddrPort("10.9.9.9:80")}},
	}}})
	ids := newRealIDs(cfg)
	targets, want := Targets(cfg)
	if len(want) != 3*4-1+1 || len(targets) != len(want) {
		t.Fatalf("Targets: %d IDs, %d targets", len(want), len(targets))
	}
	for id, k := range want {
		if got, ok := ids.lookup(id); !ok || got != k {
			t.Errorf("lookup(%q) = %+v, %v; want %+v", id, got, ok, k)
		}
	}
	if len(ids.odd) != 1 {
		t.Errorf("%d IDs kept aside, want the odd one only: %v", len(ids.odd), ids.odd)
	}
	unchecked := RealKey{cfg.Services[1].Service.Key, cfg.Services[1].Reals[2].Dest.Key()}
	other := RealKey{cfg.Services[1].Service.Key, lvs.DestKey{Addr: netip.MustParseAddr("10.1.1.1"), Port: 8080}}
	for _, k := range []RealKey{unchecked, other} {
		if got, ok := ids.lookup(k.String()); ok {
			t.Errorf("lookup(%q) = %+v, want none", k.String(), got)
		}
	}
}
