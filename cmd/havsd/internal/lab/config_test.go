package lab

import (
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/netlab"
)

func TestMasterDown(t *testing.T) {
	tests := []struct {
		p    Params
		want time.Duration
	}{
		// RFC 3768: priority 100, 1 s → 3 + 156/256 s.
		{Params{Version: 2, Advert: time.Second}, 3609375 * time.Microsecond},
		{Params{Version: 3, Advert: 100 * time.Millisecond}, 360937500 * time.Nanosecond},
	}
	for _, tt := range tests {
		if got := tt.p.MasterDown(); got != tt.want {
			t.Errorf("MasterDown(v%d %s) = %s, want %s", tt.p.Version, tt.p.Advert, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		p  Params
		ok bool
	}{
		{Params{Version: 2, Advert: time.Second}, true},
		{Params{Version: 2, Advert: 100 * time.Millisecond}, false},
		{Params{Version: 3, Advert: 10 * time.Millisecond}, true},
		{Params{Version: 3, Advert: 5 * time.Millisecond}, false},
		{Params{Version: 4, Advert: time.Second}, false},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(v%d %s) = %v, want ok=%v", tt.p.Version, tt.p.Advert, err, tt.ok)
		}
	}
}

func TestConfigs(t *testing.T) {
	p := Params{Kind: KindHavsd, Mode: netlab.ModeNAT, Reals: 2, Version: 3, Advert: 50 * time.Millisecond, Services: true}
	h := p.HavsdConfig(1, "/tmp/d2.sock")
	for _, want := range []string{`priority          = 100`, `advert_interval   = "50ms"`, `"10.99.1.254/24"`, `vrrp_sync_group "LAB"`, `real_server "10.99.1.12:80"`, `control_socket = "/tmp/d2.sock"`} {
		if !strings.Contains(h, want) {
			t.Errorf("havsd config lacks %q:\n%s", want, h)
		}
	}
	k := p.KeepalivedConfig(0)
	for _, want := range []string{"advert_int 0.05", "priority 150", "vrrp_version 3", "10.99.1.254/24 dev eth1", "VI_INT"} {
		if !strings.Contains(k, want) {
			t.Errorf("keepalived config lacks %q:\n%s", want, k)
		}
	}
	p.Version, p.Advert = 2, time.Second
	if k := p.KeepalivedConfig(0); !strings.Contains(k, "advert_int 1\n") || !strings.Contains(k, "auth_pass hvlab") {
		t.Errorf("v2 keepalived config:\n%s", k)
	}
}

// TestSyncConfig checks the ipvs_sync block of the IPVS lab: present only
// with Sync, on the internal link in NAT mode and the external one in DR,
// driven by VI_EXT with its VRID as sync id.
func TestSyncConfig(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		dev  string // "" for no ipvs_sync
	}{
		{"nat", Params{Mode: netlab.ModeNAT, Reals: 2, Sync: true}, "eth1"},
		{"dr", Params{Mode: netlab.ModeDR, Reals: 2, Sync: true}, "eth0"},
		{"nat without reals", Params{Mode: netlab.ModeNAT, Sync: true}, "eth0"},
		{"no IPVS", Params{Mode: netlab.ModeNAT, Reals: 2}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Kind, tt.p.Version, tt.p.Advert, tt.p.Services = KindHavsd, 3, time.Second, true
			src := tt.p.HavsdConfig(0, "/run/x.sock")
			c, _, diags := conf.LoadBytes("lab.hcl", []byte(src))
			if diags.HasErrors() {
				t.Fatalf("%s\n%s", diags.Error(), src)
			}
			s := c.Global.Sync
			if tt.dev == "" {
				if s != nil {
					t.Fatalf("ipvs_sync without Sync:\n%s", src)
				}
				return
			}
			if s == nil {
				t.Fatalf("no ipvs_sync:\n%s", src)
			}
			if s.Interface != tt.dev || s.Instance != "VI_EXT" || s.SyncID != vridExt {
				t.Errorf("ipvs_sync = %+v, want interface %s, instance VI_EXT, sync id %d\n%s", *s, tt.dev, vridExt, src)
			}
		})
	}
}
