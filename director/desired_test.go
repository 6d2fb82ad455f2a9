package director

import (
	"maps"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
)

var (
	vip   = netip.MustParseAddr("172.25.254.100")
	rs1   = netip.MustParseAddr("192.168.0.101")
	rs2   = netip.MustParseAddr("192.168.0.102")
	sorry = netip.MustParseAddr("192.168.0.200")
	key80 = lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: vip, Port: 80}
)

func real(a netip.Addr, w int, inhibit bool) conf.RealServer {
	return conf.RealServer{
		Dest:             lvs.Destination{Addr: a, Port: 80, Weight: w, Forward: lvs.Masq},
		InhibitOnFailure: inhibit,
		Checks:           []checks.Spec{{Kind: checks.KindTCP, Target: netip.AddrPortFrom(a, 80), Interval: time.Second}},
	}
}

func webConfig(inhibit bool, quorum, hyst int) *conf.Config {
	s := real(sorry, 1, false)
	s.Checks = nil
	return &conf.Config{
		Global: conf.Global{IPVSMode: conf.IPVSAlways},
		Services: []conf.VirtualService{{
			Name:     "web",
			Service:  lvs.Service{Key: key80, Scheduler: "wrr"},
			Reals:    []conf.RealServer{real(rs1, 2, inhibit), real(rs2, 1, inhibit)},
			Sorry:    &s,
			Quorum:   quorum,
			Instance: "VI_1",
		}},
	}
}

// weights returns "addr:port" → weight of the first service, or nil if absent.
func weights(d lvs.Desired) map[string]int {
	if len(d.Services) == 0 {
		return nil
	}
	m := map[string]int{}
	for _, x := range d.Services[0].Destinations {
		m[x.Key().String()] = x.Weight
	}
	return m
}

func TestCompute(t *testing.T) {
	id1, id2 := RealKey{key80, lvs.DestKey{Addr: rs1, Port: 80}}, RealKey{key80, lvs.DestKey{Addr: rs2, Port: 80}}
	tests := []struct {
		name   string
		cfg    *conf.Config
		in     Inputs
		want   map[string]int
		quorum bool
	}{
		{"all up", webConfig(true, 0, 0), Inputs{}, map[string]int{"192.168.0.101:80": 2, "192.168.0.102:80": 1}, true},
		{"one down inhibited", webConfig(true, 0, 0), Inputs{Health: map[RealKey]bool{id1: false}},
			map[string]int{"192.168.0.101:80": 0, "192.168.0.102:80": 1}, true},
		{"one down removed", webConfig(false, 0, 0), Inputs{Health: map[RealKey]bool{id1: false}},
			map[string]int{"192.168.0.102:80": 1}, true},
		{"all down: sorry server", webConfig(true, 0, 0), Inputs{Health: map[RealKey]bool{id1: false, id2: false}},
			map[string]int{"192.168.0.101:80": 0, "192.168.0.102:80": 0, "192.168.0.200:80": 1}, false},
		{"quorum 3 lost at live weight 2: sorry in, reals out", webConfig(true, 3, 0), Inputs{Health: map[RealKey]bool{id2: false}},
			map[string]int{"192.168.0.101:80": 0, "192.168.0.102:80": 0, "192.168.0.200:80": 1}, false},
		{"master-only, backup here: not programmed", webConfig(true, 0, 0), Inputs{MasterOnly: true, Master: map[string]bool{"VI_1": false}}, nil, true},
		{"master-only, master here", webConfig(true, 0, 0), Inputs{MasterOnly: true, Master: map[string]bool{"VI_1": true}},
			map[string]int{"192.168.0.101:80": 2, "192.168.0.102:80": 1}, true},
		{"draining real kept at 0", webConfig(true, 0, 0), Inputs{Draining: map[lvs.ServiceKey][]Drain{key80: {{Dest: lvs.Destination{Addr: netip.MustParseAddr("192.168.0.103"), Port: 80, Weight: 5, Forward: lvs.Masq}}}}},
			map[string]int{"192.168.0.101:80": 2, "192.168.0.102:80": 1, "192.168.0.103:80": 0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Compute(tt.cfg, tt.in)
			if diff := cmp.Diff(tt.want, weights(out.Desired)); diff != "" {
				t.Errorf("weights (-want +got):\n%s", diff)
			}
			if got := out.Quorum[key80] != lvs.QuorumLost; tt.want != nil && got != tt.quorum {
				t.Errorf("quorum = %v, want up=%v", out.Quorum[key80], tt.quorum)
			}
		})
	}
}

func TestComputeFullNATAndMarks(t *testing.T) {
	snat := netip.MustParseAddr("192.168.0.1")
	cfg := webConfig(true, 0, 0)
	cfg.Services[0].Reals[0].FullNAT = true
	cfg.Services[0].Reals[0].SNATSource = snat
	mark := lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.ProtoNone, FWMark: 66}
	cfg.Services = append(cfg.Services, conf.VirtualService{Name: "fw", Service: lvs.Service{Key: mark, Scheduler: "rr"}})
	cfg.Marks = []lvs.MarkRule{{Mark: 66, Addr: vip, Proto: lvs.TCP, Ports: []uint16{80, 443}}, {Mark: 67, Addr: vip, Proto: lvs.TCP}}
	out := Compute(cfg, Inputs{})
	want := []lvs.SNATRule{{Dest: lvs.DestKey{Addr: rs1, Port: 80}, Proto: lvs.TCP, Source: snat}}
	if diff := cmp.Diff(want, out.Desired.SNAT, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("SNAT (-want +got):\n%s", diff)
	}
	if len(out.Desired.Marks) != 1 || out.Desired.Marks[0].Mark != 66 {
		t.Errorf("marks = %+v, want only mark 66 (67 has no service)", out.Desired.Marks)
	}
}

// TestUpdateMatchesCompute: recomputing one service in place gives the
// same table as recomputing everything, and leaves the previous table alone.
func TestUpdateMatchesCompute(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	snat := netip.MustParseAddr("192.168.0.1")
	cfg.Services[0].Reals[0].FullNAT, cfg.Services[0].Reals[0].SNATSource = true, snat
	cfg.Services[0].Reals[0].InhibitOnFailure = false // removed when down: its SNAT rule goes too
	k443 := lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: vip, Port: 443}
	cfg.Services = append(cfg.Services, conf.VirtualService{Name: "tls", Service: lvs.Service{Key: k443, Scheduler: "rr"},
		Reals: []conf.RealServer{real(rs1, 1, false)}})
	in := Inputs{Health: map[RealKey]bool{}, Quorum: map[lvs.ServiceKey]lvs.QuorumState{}}
	out := Compute(cfg, in)
	before := out.Desired
	for _, step := range []struct {
		key  RealKey
		up   bool
		svc  lvs.ServiceKey
		snat int
	}{
		{RealKey{key80, lvs.DestKey{Addr: rs1, Port: 80}}, false, key80, 0}, // removed, with its SNAT rule
		{RealKey{key80, lvs.DestKey{Addr: rs2, Port: 80}}, false, key80, 0}, // quorum lost: sorry server in
		{RealKey{k443, lvs.DestKey{Addr: rs1, Port: 80}}, false, k443, 0},
		{RealKey{key80, lvs.DestKey{Addr: rs1, Port: 80}}, true, key80, 1}, // back, quorum regained
	} {
		in.Health[step.key] = step.up
		if !out.Update(cfg, in, step.svc) {
			t.Fatalf("Update(%s) = false", step.svc)
		}
		in.Quorum = out.Quorum
		want := Compute(cfg, Inputs{Health: in.Health, Quorum: maps.Clone(in.Quorum)})
		opt := cmpopts.EquateComparable(netip.Addr{})
		if diff := cmp.Diff(want.Desired, out.Desired, opt); diff != "" {
			t.Fatalf("after %v up=%v: Update differs from Compute (-compute +update):\n%s", step.key, step.up, diff)
		}
		if len(out.Desired.SNAT) != step.snat {
			t.Errorf("after %v up=%v: %d SNAT rules, want %d", step.key, step.up, len(out.Desired.SNAT), step.snat)
		}
	}
	if weights(before)["192.168.0.101:80"] != 2 {
		t.Error("Update changed a table already handed over")
	}
	if out.Update(cfg, in, lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: vip, Port: 8080}) {
		t.Error("Update of a service not in the table reported true")
	}
	// Several services at once (a burst of transitions): one copy, the
	// same table as Compute, the table handed over before left alone.
	before = out.Desired
	in.Health[RealKey{key80, lvs.DestKey{Addr: rs2, Port: 80}}] = false
	in.Health[RealKey{k443, lvs.DestKey{Addr: rs1, Port: 80}}] = true
	if !out.Update(cfg, in, key80, k443) {
		t.Fatal("Update(key80, k443) = false")
	}
	want := Compute(cfg, Inputs{Health: in.Health, Quorum: maps.Clone(in.Quorum)})
	if diff := cmp.Diff(want.Desired, out.Desired, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Fatalf("Update of two services differs from Compute (-compute +update):\n%s", diff)
	}
	if cmp.Equal(before, out.Desired, cmpopts.EquateComparable(netip.Addr{})) {
		t.Error("Update of two services changed nothing")
	}
	if out.Update(cfg, in, key80, lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: vip, Port: 8080}) {
		t.Error("Update with a service not in the table reported true")
	}
}
