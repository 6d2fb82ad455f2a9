package bgp

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		return Config{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11"), Communities: []string{"65000:100"},
			Neighbors: []Neighbor{{Address: netip.MustParseAddr("10.0.0.1"), ASN: 65000, HoldTime: 9 * time.Second}}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no asn", func(c *Config) { c.ASN = 0 }, "local ASN is 0"},
		{"ipv6 router id", func(c *Config) { c.RouterID = netip.MustParseAddr("2001:db8::1") }, "not an IPv4"},
		{"bad community", func(c *Config) { c.Communities = []string{"65000"} }, `community "65000"`},
		{"neighbour without asn", func(c *Config) { c.Neighbors[0].ASN = 0 }, "neighbour 10.0.0.1: ASN is 0"},
		{"hold time 2s", func(c *Config) { c.Neighbors[0].HoldTime = 2 * time.Second }, "hold time 2s"},
		{"hold time fraction", func(c *Config) { c.Neighbors[0].HoldTime = 3500 * time.Millisecond }, "hold time 3.5s"},
		{"duplicate neighbour", func(c *Config) { c.Neighbors = append(c.Neighbors, c.Neighbors[0]) }, "listed twice"},
		{"source family", func(c *Config) { c.Neighbors[0].Source = netip.MustParseAddr("2001:db8::2") }, "not the same family"},
		{"listen port", func(c *Config) { c.ListenPort = 70000 }, "listen port 70000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
			if _, nerr := New(c, nil); nerr == nil {
				t.Error("New accepted the invalid config")
			}
		})
	}
}

// TestKeepaliveIsAThird checks what the speaker hands GoBGP.
func TestKeepaliveIsAThird(t *testing.T) {
	p := peerConfig(Neighbor{Address: netip.MustParseAddr("fd00::1"), ASN: 1, HoldTime: 10 * time.Second, Multihop: 2, Port: 1179, Password: "x"})
	tm := p.GetTimers().GetConfig()
	if tm.GetHoldTime() != 10 || tm.GetKeepaliveInterval() != 3 {
		t.Errorf("hold %d keepalive %d, want 10 and 3", tm.GetHoldTime(), tm.GetKeepaliveInterval())
	}
	if fam := p.GetAfiSafis()[0].GetConfig().GetFamily(); fam.GetAfi().String() != "AFI_IP6" {
		t.Errorf("an IPv6 neighbour carries %v", fam)
	}
	if !p.GetEbgpMultihop().GetEnabled() || p.GetEbgpMultihop().GetMultihopTtl() != 2 || p.GetTransport().GetRemotePort() != 1179 || p.GetConf().GetAuthPassword() != "x" {
		t.Errorf("multihop, port or password lost: %v", p)
	}
}
