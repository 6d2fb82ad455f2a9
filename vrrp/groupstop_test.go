package vrrp

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// TestGroupStopNotify: a sync group's notify stop runs once every member
// has stopped, and not before.
func TestGroupStopNotify(t *testing.T) {
	lb := newLab(t)
	dir := t.TempDir()
	mark := filepath.Join(dir, "group-stop")
	ca, cb := testConfig("ext", 200), testConfig("int", 200)
	cb.VRID = 52
	cb.VIPs = []VIP{{Prefix: netip.MustParsePrefix("10.1.0.1/24")}}
	mk := func(cfg Config, local string) *director {
		d := &director{vips: newFakeVIPs(cfg.Name, lb.ops), conn: lb.hub.conn(netip.MustParseAddr(local)), done: make(chan error, 1)}
		inst, err := NewInstance(cfg, Options{Conn: d.conn, VIPs: d.vips, Clock: lb.clock, Links: &fakeLinks{}, Addrs: noAddrs{}, Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		d.inst = inst
		return d
	}
	a, b := mk(ca, "10.0.0.1"), mk(cb, "10.0.0.1")
	sg := SyncGroup{Name: "g", Instances: []string{"ext", "int"}, Notify: Notify{Stop: []string{"/usr/bin/touch", mark}}}
	if _, err := NewGroup(sg, []*Instance{a.inst, b.inst}, discard()); err != nil {
		t.Fatal(err)
	}
	lb.run(a, "ext")
	lb.run(b, "int")
	lb.waitFor("both master", func() bool { return a.state() == StateMaster && b.state() == StateMaster })
	a.cancel()
	lb.waitFor("ext stopped", func() bool { return len(a.done) == 1 })
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("group stop notify ran while a member still runs")
	}
	b.cancel()
	lb.waitFor("group stop notify ran", func() bool {
		_, err := os.Stat(mark)
		return err == nil
	})
}
