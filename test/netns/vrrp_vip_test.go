package netns

import (
	"net/netip"
	"testing"

	"github.com/havsd/havsd/vrrp/vip"
)

// TestVRRPVIPManager adds, finds, announces and removes IPv4 and IPv6 VIPs
// in a namespace, and removes stale ones as a restarted director does.
func TestVRRPVIPManager(t *testing.T) {
	l := newVRLab(t)
	m := vip.NewManager(nil)
	as := []vip.Address{
		{Dev: "eth0", Prefix: netip.MustParsePrefix(vrVIP + "/24")},
		{Dev: "eth0", Prefix: netip.MustParsePrefix(vrVIP6 + "/64")},
	}
	err := l.d1.Do(func() error {
		for _, a := range as {
			if err := m.Add(a); err != nil {
				return err
			}
			if err := m.Add(a); err != nil { // idempotent
				return err
			}
			if ok, err := m.Has(a); err != nil || !ok {
				t.Errorf("Has(%v) = %v, %v after Add", a, ok, err)
			}
		}
		if err := m.Announce("eth0", []netip.Addr{as[0].Prefix.Addr(), as[1].Prefix.Addr()}); err != nil {
			t.Errorf("Announce: %v", err)
		}
		removed, err := m.RemoveStale(append(as, vip.Address{Dev: "eth0", Prefix: netip.MustParsePrefix("10.9.0.200/24")}))
		if err != nil {
			return err
		}
		if len(removed) != 2 {
			t.Errorf("RemoveStale removed %v, want the two VIPs", removed)
		}
		for _, a := range as {
			if ok, _ := m.Has(a); ok {
				t.Errorf("%v still present after RemoveStale", a)
			}
			if err := m.Remove(a); err != nil { // idempotent
				t.Errorf("Remove of an absent VIP: %v", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
