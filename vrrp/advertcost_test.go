package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

// advertCostConfig is one v3 instance at 10 ms with one VIP.
func advertCostConfig() Config {
	return Config{Name: "VI_1", Interface: "eth0", VRID: 51, Priority: 100, Version: 3,
		AdvertInterval: 10 * time.Millisecond, VIPs: []VIP{{Prefix: netip.MustParsePrefix("10.9.0.100/24")}}}
}

// BenchmarkAdvertSend is a master's per-advert work before the socket:
// build the advert and seal it (encode, checksum). Allocations per advert
// are issue 14's figure (target 0).
func BenchmarkAdvertSend(b *testing.B) {
	l := &loop{cfg: advertCostConfig(), local: netip.MustParseAddr("10.9.0.1")}
	b.ReportAllocs()
	for b.Loop() {
		p := l.advert(100)
		if _, err := p.Seal(l.local, MulticastIPv4); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdvertReceive is a backup's per-advert work after the socket:
// validate the datagram and step the state machine with it. Allocations
// per advert are issue 14's figure (target 0).
func BenchmarkAdvertReceive(b *testing.B) {
	cfg := advertCostConfig()
	peer := netip.MustParseAddr("10.9.0.2")
	p := (&loop{cfg: cfg}).advert(200)
	data, err := p.Seal(peer, MulticastIPv4)
	if err != nil {
		b.Fatal(err)
	}
	v := newValidator(cfg, netip.MustParseAddr("10.9.0.1"))
	params := Params{Version: 3, Priority: 100, AdvertInterval: cfg.AdvertInterval, Local: netip.MustParseAddr("10.9.0.1")}
	now := time.Unix(0, 0)
	m, _, _ := Step(Machine{State: StateInit}, params, Input{Kind: EvStartup}, now)
	d := Datagram{Src: peer, Dst: MulticastIPv4, TTL: 255, Data: data}
	b.ReportAllocs()
	for b.Loop() {
		got, reason, _ := v.check(d)
		if reason != DropNone {
			b.Fatalf("dropped: %v", reason)
		}
		now = now.Add(cfg.AdvertInterval)
		m, _, _ = Step(m, params, Input{Kind: EvAdvert, Advert: Advert{Src: d.Src, Priority: got.Priority, Interval: got.AdvertInterval}}, now)
	}
	if m.State != StateBackup {
		b.Fatalf("state %v, want BACKUP", m.State)
	}
}
