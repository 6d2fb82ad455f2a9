package director

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/lvs"
)

func TestVocabulary(t *testing.T) {
	type inner struct {
		AdvertInterval time.Duration
		VIPs           []netip.Prefix
		Forward        lvs.Forward
		Unset          int
	}
	type outer struct {
		Name    string `json:"name"`
		Inner   inner
		Empty   []string
		ByKey   map[lvs.ServiceKey]bool
		Nothing *inner
	}
	key := lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}
	v := outer{Name: "x", Inner: inner{AdvertInterval: 1500 * time.Millisecond,
		VIPs: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}, Forward: lvs.Masq},
		ByKey: map[lvs.ServiceKey]bool{key: true}}
	b, err := json.Marshal(Vocabulary(v))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"by_key":{"` + key.String() + `":true},"empty":[],"inner":{"advert_interval":"1.5s","forward":"` + lvs.Masq.String() + `","vips":["10.0.0.1/32"]},"name":"x"}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("Vocabulary (-want +got):\n%s", diff)
	}
	for in, want := range map[string]string{"AdvertInterval": "advert_interval", "VIPs": "vips", "IPv6": "ipv6", "UnicastPeers": "unicast_peers", "SNATSource": "snat_source", "VRID": "vrid", "FWMark": "fwmark", "HeldVIPs": "held_vips", "TimeoutTCPFin": "timeout_tcp_fin"} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
