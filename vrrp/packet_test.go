package vrrp

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	srcV4 = netip.MustParseAddr("10.0.0.1")
	srcV6 = netip.MustParseAddr("fe80::1")
)

func testPackets() map[string]Packet {
	var pass [8]byte
	copy(pass[:], "secret")
	return map[string]Packet{
		"v2 pass": {Version: 2, Type: 1, VRID: 51, Priority: 100, AuthType: AuthSimple, AuthData: pass,
			AdvertInterval: time.Second, Addresses: []netip.Addr{netip.MustParseAddr("192.168.0.100")}},
		"v2 two addrs": {Version: 2, Type: 1, VRID: 1, Priority: 255, AdvertInterval: 3 * time.Second,
			Addresses: []netip.Addr{netip.MustParseAddr("10.1.1.1"), netip.MustParseAddr("10.1.1.2")}},
		"v3 ipv4": {Version: 3, Type: 1, VRID: 7, Priority: 200, AdvertInterval: 10 * time.Millisecond,
			Addresses: []netip.Addr{netip.MustParseAddr("192.168.0.100")}},
		"v3 ipv6": {Version: 3, Type: 1, VRID: 7, Priority: 0, AdvertInterval: 40950 * time.Millisecond,
			Addresses: []netip.Addr{netip.MustParseAddr("2001:db8::100"), netip.MustParseAddr("fe80::100")}},
	}
}

func TestPacketRoundTrip(t *testing.T) {
	for name, p := range testPackets() {
		t.Run(name, func(t *testing.T) {
			src, dst := srcV4, MulticastIPv4
			if p.IPv6() {
				src, dst = srcV6, MulticastIPv6
			}
			b, err := p.Seal(src, dst)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if !Verify(b, src, dst) {
				t.Errorf("Verify of sealed packet failed")
			}
			if p.Version == 3 && Verify(b, netip.MustParseAddr("10.9.9.9"), dst) && !p.IPv6() {
				t.Errorf("v3 checksum ignores the pseudo-header")
			}
			if p.Version == 2 && !Verify(b, netip.MustParseAddr("10.9.9.9"), dst) {
				t.Errorf("v2 checksum depends on the pseudo-header")
			}
			var q Packet
			if err := q.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if diff := cmp.Diff(p, q, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			c, err := q.MarshalBinary()
			if err != nil || !bytes.Equal(b, c) {
				t.Errorf("re-marshal = %x, %v; want %x", c, err, b)
			}
			for i := range b {
				bad := bytes.Clone(b)
				bad[i] ^= 0x10
				if Verify(bad, src, dst) {
					t.Errorf("Verify accepts a flipped bit in byte %d", i)
				}
			}
		})
	}
}

// TestChecksumVector checks the v2 checksum against a value computed by hand:
// 21 33 64 01 01 01 0000 c0a80064 "secret\0\0".
func TestChecksumVector(t *testing.T) {
	p := testPackets()["v2 pass"]
	if _, err := p.Seal(srcV4, MulticastIPv4); err != nil {
		t.Fatal(err)
	}
	// 2133+6401+0101+0000+c0a8+0064+7365+6372+6574+0000 = 0x2838c → 0x838e → ^ = 0x7c71
	if p.Checksum != 0x7c71 {
		t.Errorf("checksum = %#04x, want 0x7c71", p.Checksum)
	}
}

func TestParseErrors(t *testing.T) {
	good, _ := func() ([]byte, error) { p := testPackets()["v3 ipv4"]; return p.Seal(srcV4, MulticastIPv4) }()
	v2, _ := func() ([]byte, error) { p := testPackets()["v2 pass"]; return p.Seal(srcV4, MulticastIPv4) }()
	tests := []struct {
		name string
		b    []byte
		six  bool
		want DropReason
	}{
		{"empty", nil, false, DropTruncated},
		{"short header", good[:5], false, DropTruncated},
		{"short addresses", good[:10], false, DropTruncated},
		{"v2 without auth data", v2[:12], false, DropTruncated},
		{"trailing bytes", append(bytes.Clone(good), 0, 0), false, DropLength},
		{"version 1", append([]byte{0x11}, good[1:]...), false, DropVersion},
		{"version 2 on ipv6", v2, true, DropVersion},
		{"zero count", append([]byte{good[0], good[1], good[2], 0}, good[4:8]...), false, DropNoAddress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.b, tc.six)
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Reason != tc.want {
				t.Errorf("Parse error = %v, want reason %v", err, tc.want)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	base := testPackets()["v3 ipv4"]
	tests := map[string]func(p *Packet){
		"version 4":      func(p *Packet) { p.Version = 4 },
		"no address":     func(p *Packet) { p.Addresses = nil },
		"v2 fraction":    func(p *Packet) { p.Version = 2; p.AdvertInterval = 1500 * time.Millisecond },
		"v3 too long":    func(p *Packet) { p.AdvertInterval = 41 * time.Second },
		"v3 sub-centi":   func(p *Packet) { p.AdvertInterval = 15 * time.Millisecond },
		"mixed families": func(p *Packet) { p.Addresses = append(p.Addresses, netip.MustParseAddr("::1")) },
		"v2 ipv6":        func(p *Packet) { p.Version = 2; p.AdvertInterval = time.Second; p.Addresses = []netip.Addr{srcV6} },
		"256 addresses":  func(p *Packet) { p.Addresses = make([]netip.Addr, 256) },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			p := base
			p.Addresses = append([]netip.Addr(nil), base.Addresses...)
			mutate(&p)
			if _, err := p.MarshalBinary(); err == nil {
				t.Errorf("MarshalBinary succeeded")
			}
		})
	}
}

func FuzzPacketRoundTrip(f *testing.F) {
	for _, p := range testPackets() {
		b, _ := p.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := p.UnmarshalBinary(b); err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Reason == DropNone {
				t.Fatalf("error %v is not a ParseError with a reason", err)
			}
			return
		}
		c, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary after UnmarshalBinary(%x): %v", b, err)
		}
		if !bytes.Equal(b, c) {
			t.Fatalf("round trip:\n in %x\nout %x", b, c)
		}
		for _, six := range []bool{false, true} {
			_, _ = Parse(b, six) // must not panic
		}
		_ = Verify(b, srcV4, MulticastIPv4)
	})
}
