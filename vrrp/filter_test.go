package vrrp

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/havsd/havsd/test/need"
)

// TestSiblingFilter runs the VRID filter in x/net/bpf's interpreter: a
// sibling's advert is discarded, the instance's own, a stranger's and a
// runt reach the validator, with and without IPv4 header options.
func TestSiblingFilter(t *testing.T) {
	if siblingFilter(51, nil, true) != nil || siblingFilter(51, []uint8{51}, false) != nil {
		t.Error("a filter with no sibling to discard")
	}
	advert := func(vrid uint8) []byte { return []byte{0x31, vrid, 100, 1, 0, 10, 0, 0} }
	ip4 := func(ihl int, payload []byte) []byte {
		h := make([]byte, 4*ihl)
		h[0] = 0x40 | byte(ihl)
		h[9] = Protocol
		return append(h, payload...)
	}
	for _, fam := range []struct {
		name string
		ip   bool
		wrap func([]byte) []byte
	}{
		{"IPv4", true, func(b []byte) []byte { return ip4(5, b) }},
		{"IPv4 with options", true, func(b []byte) []byte { return ip4(7, b) }},
		{"IPv6", false, func(b []byte) []byte { return b }},
	} {
		vm, err := bpf.NewVM(siblingFilter(51, []uint8{60, 51, 61, 60}, fam.ip))
		if err != nil {
			t.Fatalf("%s: %v", fam.name, err)
		}
		for _, tc := range []struct {
			name string
			b    []byte
			keep bool
		}{
			{"own", advert(51), true},
			{"sibling", advert(60), false},
			{"last sibling", advert(61), false},
			{"stranger", advert(70), true},
			{"VRID 0", advert(0), true},
			{"runt", advert(60)[:1], true},
			{"empty", nil, true},
		} {
			n, err := vm.Run(fam.wrap(tc.b))
			if err != nil {
				t.Fatalf("%s %s: %v", fam.name, tc.name, err)
			}
			if (n > 0) != tc.keep {
				t.Errorf("%s, %s advert: filter returned %d, want kept %v", fam.name, tc.name, n, tc.keep)
			}
		}
	}
}

// TestSiblingFilterKernel attaches the filter to real protocol-112 sockets
// on loopback: the kernel discards a sibling's advert and delivers the
// stranger's and the instance's own, in order, with the addresses, TTL and
// interface the raw receive path reads.
func TestSiblingFilterKernel(t *testing.T) {
	need.Root(t, "opens raw protocol-112 sockets")
	for _, fam := range []struct {
		name string
		six  bool
		addr netip.Addr
	}{{"IPv4", false, netip.MustParseAddr("127.0.0.1")}, {"IPv6", true, netip.IPv6Loopback()}} {
		t.Run(fam.name, func(t *testing.T) {
			cfg := testConfig("a", 100)
			cfg.Interface, cfg.IPv6, cfg.UnicastSource = "lo", fam.six, fam.addr
			cfg.UnicastPeers = []netip.Addr{fam.addr}
			rx, err := Listen(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			if err := rx.FilterSiblings(51, []uint8{60}); err != nil {
				t.Fatal(err)
			}
			tx, err := Listen(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			for _, vrid := range []uint8{60, 70, 51} {
				p := Packet{Version: 3, Type: 1, VRID: vrid, Priority: 100, AdvertInterval: time.Second, Addresses: []netip.Addr{fam.addr}}
				b, err := p.Seal(fam.addr, fam.addr)
				if err != nil {
					t.Fatal(err)
				}
				if err := tx.WriteTo(b, fam.addr); err != nil {
					t.Fatal(err)
				}
			}
			_ = rx.pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 1500)
			var got []uint8
			for len(got) < 2 {
				d, err := rx.ReadFrom(buf)
				if err != nil {
					t.Fatalf("after VRIDs %v: %v", got, err)
				}
				got = append(got, d.Data[1])
				// What the raw receive path reports (rawio_linux.go).
				if d.Src != fam.addr || d.Dst != fam.addr || d.TTL != 255 || d.IfIndex != rx.IfIndex() {
					t.Errorf("datagram from %v to %v, TTL %d, interface %d; want from and to %v, TTL 255, interface %d",
						d.Src, d.Dst, d.TTL, d.IfIndex, fam.addr, rx.IfIndex())
				}
				v := newValidator(cfg, netip.MustParseAddr("192.0.2.1"))
				if _, r, msg := v.check(d); d.Data[1] == 51 && r != DropNone {
					t.Errorf("validator dropped the instance's own VRID: %v %s", r, msg)
				}
			}
			if got[0] != 70 || got[1] != 51 {
				t.Errorf("received VRIDs %v, want [70 51] (60 discarded)", got)
			}
			// The sibling gone (a reload): its VRID is delivered again.
			if err := rx.FilterSiblings(51, nil); err != nil {
				t.Fatal(err)
			}
			p := Packet{Version: 3, Type: 1, VRID: 60, Priority: 100, AdvertInterval: time.Second, Addresses: []netip.Addr{fam.addr}}
			b, err := p.Seal(fam.addr, fam.addr)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.WriteTo(b, fam.addr); err != nil {
				t.Fatal(err)
			}
			d, err := rx.ReadFrom(buf)
			if err != nil {
				t.Fatalf("after the filter was lifted: %v", err)
			}
			if d.Data[1] != 60 {
				t.Errorf("after the filter was lifted: VRID %d, want 60", d.Data[1])
			}
		})
	}
}
