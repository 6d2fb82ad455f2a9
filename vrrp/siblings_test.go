package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

// TestSetSiblingVRIDs: after a reload renumbers a sibling instance (the
// daemon's other instance on the interface), its adverts are ignored, not
// counted as unknown-VRID drops; the old sibling's VRID is counted again.
func TestSetSiblingVRIDs(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster })
	src := netip.MustParseAddr("10.0.0.1") // the daemon's own address: a sibling's advert
	advert := func(vrid uint8, ttl int) Datagram {
		p := Packet{Version: 3, Type: 1, VRID: vrid, Priority: 100, AdvertInterval: 100 * time.Millisecond, Addresses: []netip.Addr{netip.MustParseAddr("192.168.0.150")}}
		b, err := p.Seal(src, MulticastIPv4)
		if err != nil {
			t.Fatal(err)
		}
		return Datagram{Data: b, Src: src, Dst: MulticastIPv4, TTL: ttl}
	}
	// Each step injects one sibling advert and then a marker (TTL 64,
	// counted as "ttl") and waits for the marker: the advert before it
	// has been handled by then.
	step := func(vrid uint8, wantVRID, wantTTL uint64) {
		t.Helper()
		a.conn.inject(advert(vrid, 255))
		a.conn.inject(advert(51, 64))
		lb.waitFor("marker counted", func() bool { return a.inst.Status().Drops["ttl"] == wantTTL })
		if got := a.inst.Status().Drops["vrid"]; got != wantVRID {
			t.Errorf("after an advert of VRID %d: %d unknown-VRID drops, want %d", vrid, got, wantVRID)
		}
	}
	a.inst.SetSiblingVRIDs([]uint8{60})
	step(60, 0, 1)                      // a sibling: ignored
	step(61, 1, 2)                      // unknown
	a.inst.SetSiblingVRIDs([]uint8{61}) // the reload renumbered it 60 → 61
	step(61, 1, 3)
	step(60, 2, 4)
}
