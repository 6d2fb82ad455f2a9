package lvs

import (
	"net/netip"
	"testing"
)

func TestParseServiceAttrs(t *testing.T) {
	// A service as the kernel sends it: tcp [2001:db8::1]:443, sh with
	// sh-port, persistent 300 s with a /64 netmask, the sip engine.
	b := attrs(
		attr(svcAttrAF, u16(10)), attr(svcAttrProtocol, u16(6)),
		attr(svcAttrAddr, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}),
		attr(svcAttrPort, []byte{1, 0xbb}), attr(svcAttrSchedName, []byte("sh\x00")),
		attr(svcAttrFlags, append(u32(0x1|0x2|0x10), u32(0xffffffff)...)),
		attr(svcAttrTimeout, u32(300)), attr(svcAttrNetmask, u32(64)),
		attr(svcAttrPEName, []byte("sip\x00")),
	)
	s, err := parseServiceAttrs(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Key.String(), "tcp [2001:db8::1]:443"; got != want {
		t.Errorf("key %s, want %s", got, want)
	}
	if s.Scheduler != "sh" || s.Flags != FlagPort || s.Timeout.Seconds() != 300 || s.NetmaskBits != 64 || s.PE != "sip" {
		t.Errorf("parsed %+v", s)
	}
	// An IPv4 mask arrives in network byte order.
	if got := netmaskBits([]byte{255, 255, 255, 0}, IPv4); got != 24 {
		t.Errorf("IPv4 netmask bits = %d, want 24", got)
	}
	if m := netmaskValue(Service{Key: tcp("10.0.0.1", 80), Timeout: 1e9, NetmaskBits: 24}); string(u32(m)) != "\xff\xff\xff\x00" {
		t.Errorf("IPv4 netmask written as % x", u32(m))
	}
}

func u16(v uint16) []byte { return []byte{byte(v), byte(v >> 8)} }
func u32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

func attr(typ int, v []byte) []byte {
	n := 4 + len(v)
	b := append([]byte{byte(n), byte(n >> 8), byte(typ), byte(typ >> 8)}, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func attrs(as ...[]byte) []byte {
	var out []byte
	for _, a := range as {
		out = append(out, a...)
	}
	return out
}

// TestEncodeServiceRoundTrip decodes what the batched writer sends with the
// parser of kernel answers: both sides must agree on every attribute.
func TestEncodeServiceRoundTrip(t *testing.T) {
	for _, s := range []Service{
		{Key: tcp("10.0.0.1", 80), Scheduler: "sh", Flags: FlagFallback | FlagPort, Timeout: 300e9, NetmaskBits: 24},
		{Key: tcp("2001:db8::1", 443), Scheduler: "wrr", Timeout: 60e9, NetmaskBits: 64, PE: "sip"},
		{Key: ServiceKey{Family: IPv4, FWMark: 66}, Scheduler: "rr"},
		{Key: ServiceKey{Family: IPv4, Proto: UDP, Addr: netip.MustParseAddr("10.0.0.2"), Port: 53}, Scheduler: "rr", OnePacket: true},
	} {
		t.Run(s.Key.String(), func(t *testing.T) {
			data, err := appendOp(nil, Op{Kind: OpAddService, Service: s})
			if err != nil {
				t.Fatal(err)
			}
			if data[0] != ipvsCmdNewService {
				t.Errorf("command %d", data[0])
			}
			got, err := parseServiceMsg(data)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(s) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, s.Canonical())
			}
		})
	}
}

// TestDestRoundTrip decodes what the writer sends for a real server.
func TestDestRoundTrip(t *testing.T) {
	svc := Service{Key: tcp("10.0.0.1", 80)}
	for _, d := range []Destination{
		{Addr: netip.MustParseAddr("192.168.1.10"), Port: 8080, Weight: 3, Forward: Masq, UpperThreshold: 100, LowerThreshold: 50},
		{Addr: netip.MustParseAddr("2001:db8::10"), Port: 80, Weight: 0, Forward: Tunnel},
		{Addr: netip.MustParseAddr("192.168.1.11"), Port: 80, Weight: 1, Forward: Route},
		{Addr: netip.MustParseAddr("192.168.1.12"), Port: 80, Weight: 1, Forward: Tunnel, TunType: TunGUE, TunPort: 6080, TunFlags: TunCsum},
		{Addr: netip.MustParseAddr("192.168.1.13"), Port: 80, Weight: 1, Forward: Tunnel, TunType: TunGRE, TunFlags: TunRemCsum},
	} {
		t.Run(d.Key().String(), func(t *testing.T) {
			data, err := appendOp(nil, Op{Kind: OpAddDest, Service: svc, Dest: d})
			if err != nil {
				t.Fatal(err)
			}
			if data[0] != ipvsCmdNewDest {
				t.Errorf("command %d", data[0])
			}
			got, err := parseDestMsg(data, IPv4)
			if err != nil {
				t.Fatal(err)
			}
			if got.Key() != d.Key() || !got.Equal(d) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, d)
			}
		})
	}
}

func TestMalformedAnswers(t *testing.T) {
	for name, b := range map[string][]byte{
		"attribute longer than message": append([]byte{0, 0, 0, 0}, attr(ipvsCmdAttrSvc, nil)[:2]...),
		"attribute length 200":          {0, 0, 0, 0, 200, 0, 1, 0, 1, 2, 3, 4},
		"no service":                    {0, 0, 0, 0},
		"short":                         {4},
		"service without address":       append([]byte{0, 0, 0, 0}, attr(ipvsCmdAttrSvc, attr(svcAttrAF, u16(2)))...),
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := parseServiceMsg(b); err == nil {
				t.Errorf("parsed %+v from % x", s, b)
			}
		})
	}
}

// TestEqualSeesOpsAndTunnel: a change of one-packet scheduling or of a
// tunnel's encapsulation is a difference the reconciler must apply.
func TestEqualSeesOpsAndTunnel(t *testing.T) {
	a := Service{Key: tcp("10.0.0.1", 80)}
	b := a
	b.OnePacket = true
	if a.Equal(b) {
		t.Error("OnePacket ignored by Equal")
	}
	d := Destination{Addr: netip.MustParseAddr("192.168.1.12"), Port: 80, Forward: Tunnel}
	e := d
	e.TunType, e.TunPort = TunGUE, 6080
	if d.Equal(e) {
		t.Error("TunType ignored by Destination.Equal")
	}
	m := d
	m.Forward, m.TunType = Masq, TunGUE
	if got := a.canonicalDest(m); got.TunType != TunIPIP {
		t.Errorf("canonical NAT server keeps tun type %s", got.TunType)
	}
}
