package vrrp

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestRawConnOverUDP runs the socket code over a UDP socket on loopback
// (no root needed): TTL 255 on send, TTL and destination from control
// messages on receive, and the validator accepting the result.
func TestRawConnOverUDP(t *testing.T) {
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
	// The sender claims another local address so the packet is not "own".
	local := netip.MustParseAddr("127.0.0.1")
	cfg.UnicastPeers = []netip.Addr{local} // no group to join on a UDP socket
	c, err := newRawConn(cfg, lo, local, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	c.port = port
	p := Packet{Version: 3, Type: 1, VRID: 51, Priority: 100, AdvertInterval: 100 * time.Millisecond, Addresses: []netip.Addr{vip100.Addr()}}
	b, err := p.Seal(local, local)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteTo(b, local); err != nil {
		t.Fatal(err)
	}
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	d, err := c.ReadFrom(make([]byte, 1500))
	if err != nil {
		t.Fatal(err)
	}
	if d.TTL != 255 || d.Src != local || d.Dst != local || len(d.Data) != len(b) {
		t.Fatalf("datagram TTL %d src %v dst %v len %d", d.TTL, d.Src, d.Dst, len(d.Data))
	}
	v := newValidator(cfg, netip.MustParseAddr("127.0.0.2"))
	if _, r, msg := v.check(d); r != DropNone {
		t.Errorf("validator dropped it: %v %s", r, msg)
	}
	v = newValidator(cfg, local)
	if _, r, _ := v.check(d); r != DropOwn {
		t.Errorf("own packet: reason %v", r)
	}
}

func TestValidatorReasons(t *testing.T) {
	src, dst := netip.MustParseAddr("10.0.0.2"), MulticastIPv4
	cfg := testConfig("a", 100)
	cfg.Version, cfg.AdvertInterval, cfg.AuthPass = 2, time.Second, "secret"
	v := newValidator(cfg, netip.MustParseAddr("10.0.0.1"))
	var pass [8]byte
	copy(pass[:], "secret")
	base := Packet{Version: 2, Type: 1, VRID: 51, Priority: 100, AuthType: AuthSimple, AuthData: pass, AdvertInterval: time.Second, Addresses: []netip.Addr{vip100.Addr()}}
	mk := func(f func(*Packet)) []byte {
		p := base
		p.Addresses = append([]netip.Addr(nil), base.Addresses...)
		if f != nil {
			f(&p)
		}
		b, _ := p.Seal(src, dst)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		ttl  int
		from netip.Addr
		want DropReason
	}{
		{"valid", mk(nil), 255, src, DropNone},
		{"ttl", mk(nil), 64, src, DropTTL},
		{"v3 on a v2 instance", mk(func(p *Packet) { p.Version = 3; p.AdvertInterval = 100 * time.Millisecond; p.AuthType = 0 }), 255, src, DropVersion},
		{"wrong password", mk(func(p *Packet) { p.AuthData[0] = 'X' }), 255, src, DropAuth},
		{"no auth", mk(func(p *Packet) { p.AuthType = 0; p.AuthData = [8]byte{} }), 255, src, DropAuth},
		{"interval", mk(func(p *Packet) { p.AdvertInterval = 2 * time.Second }), 255, src, DropInterval},
		{"own", mk(nil), 255, netip.MustParseAddr("10.0.0.1"), DropOwn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, r, msg := v.check(Datagram{Data: tc.b, Src: tc.from, Dst: dst, TTL: tc.ttl})
			if r != tc.want {
				t.Errorf("reason %v (%s), want %v", r, msg, tc.want)
			}
		})
	}
	sib := mk(func(p *Packet) { p.VRID = 60 })
	if _, r, _ := v.check(Datagram{Data: sib, Src: src, Dst: dst, TTL: 255}); r != DropVRID {
		t.Errorf("unknown VRID: reason %v", r)
	}
	v.siblings = []uint8{60}
	if _, r, _ := v.check(Datagram{Data: sib, Src: src, Dst: dst, TTL: 255}); r != dropSibling {
		t.Errorf("sibling VRID: reason %v", r)
	}
	cfg.UnicastPeers = []netip.Addr{netip.MustParseAddr("10.0.0.3")}
	v = newValidator(cfg, netip.MustParseAddr("10.0.0.1"))
	if _, r, _ := v.check(Datagram{Data: mk(nil), Src: src, Dst: dst, TTL: 255}); r != DropNotPeer {
		t.Errorf("non-peer: reason %v", r)
	}
}
