package vrrp

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/havsd/havsd/vrrp/vip"
)

func TestPlanVIPs(t *testing.T) {
	a := func(dev, p string) vip.Address { return vip.Address{Dev: dev, Prefix: netip.MustParsePrefix(p)} }
	v1, v2, v6 := a("eth0", "10.0.0.100/24"), a("eth0", "10.0.0.101/24"), a("eth0", "2001:db8::100/64")
	tests := []struct {
		name       string
		want, have []vip.Address
		plan       vipPlan
	}{
		{"master in step with the kernel", []vip.Address{v1, v2}, []vip.Address{v2, v1}, vipPlan{}},
		{"master lost one (ip addr del): add it back and announce", []vip.Address{v1, v2}, []vip.Address{v1},
			vipPlan{Add: []vip.Address{v2}, Announce: true}},
		{"master after link up: IPv6 VIP flushed by the kernel", []vip.Address{v1, v6}, []vip.Address{v1},
			vipPlan{Add: []vip.Address{v6}, Announce: true}},
		{"backup holding one (ip addr add): remove it", nil, []vip.Address{v1},
			vipPlan{Remove: []vip.Address{v1}}},
		{"a hand-added /32 counts as held", []vip.Address{v1}, []vip.Address{a("eth0", "10.0.0.100/32")}, vipPlan{}},
		{"a hand-added /32 on a backup is removed with its own prefix", nil, []vip.Address{a("eth0", "10.0.0.100/32")},
			vipPlan{Remove: []vip.Address{a("eth0", "10.0.0.100/32")}}},
		{"same address on another device is not ours", []vip.Address{v1}, []vip.Address{a("eth1", "10.0.0.100/24")},
			vipPlan{Add: []vip.Address{v1}, Remove: []vip.Address{a("eth1", "10.0.0.100/24")}, Announce: true}},
		{"nothing wanted, nothing held", nil, nil, vipPlan{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.plan, planVIPs(tc.want, tc.have), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}
