package vrrp

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestRawIOAllocations: an advert sent and received through RawConn's raw
// system calls (over UDP on loopback, no root needed) allocates nothing,
// and the datagram read is the one sent, with its TTL and addresses.
func TestRawIOAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: the race detector allocates")
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no loopback interface")
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig("a", 100)
	cfg.Interface = "lo"
	local := netip.MustParseAddr("127.0.0.1")
	cfg.UnicastPeers = []netip.Addr{local}
	c, err := newRawConn(cfg, lo, local, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.port = pc.LocalAddr().(*net.UDPAddr).Port
	p := Packet{Version: 3, Type: 1, VRID: 51, Priority: 100, AdvertInterval: 100 * time.Millisecond, Addresses: []netip.Addr{vip100.Addr()}}
	b, err := p.Seal(local, local)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = pc.SetReadDeadline(time.Now().Add(30 * time.Second))
	var bad string
	n := testing.AllocsPerRun(200, func() {
		if err := c.WriteTo(b, local); err != nil {
			bad = err.Error()
			return
		}
		d, err := c.ReadFrom(buf)
		switch {
		case err != nil:
			bad = err.Error()
		case string(d.Data) != string(b) || d.Src != local || d.Dst != local || d.TTL != 255:
			bad = "datagram differs from the advert sent"
		}
	})
	if bad != "" {
		t.Fatal(bad)
	}
	if n != 0 {
		t.Errorf("%v allocations per advert sent and received, want 0", n)
	}
}
