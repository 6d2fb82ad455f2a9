package lab

import (
	"testing"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/netlab"
)

// TestHavsdConfigLoads checks that every lab configuration is valid HCL for
// the conf package.
func TestHavsdConfigLoads(t *testing.T) {
	for _, m := range []netlab.Mode{netlab.ModeNAT, netlab.ModeDR} {
		for _, v := range []struct {
			version int
			advert  time.Duration
		}{{2, time.Second}, {3, 10 * time.Millisecond}} {
			for _, sync := range []bool{false, true} {
				p := Params{Kind: KindHavsd, Mode: m, Reals: 2, Version: v.version, Advert: v.advert, Services: true, Sync: sync}
				for i := 0; i < 2; i++ {
					src := p.HavsdConfig(i, "/run/x.sock")
					if _, _, diags := conf.LoadBytes("lab.hcl", []byte(src)); diags.HasErrors() {
						t.Errorf("%s v%d sync=%v d%d: %s\n%s", m, v.version, sync, i+1, diags.Error(), src)
					}
				}
			}
		}
	}
}

// TestECMPConfigLoads checks the ECMP lab's director configurations.
func TestECMPConfigLoads(t *testing.T) {
	p := DefaultECMPParams()
	p.Extra = []netlab.ECMPNeighbor{{Address: "10.97.0.2", ASN: 65099, Port: 1790}}
	for i := 0; i < p.Directors; i++ {
		src := p.ECMPConfig(i, "/run/x.sock")
		cfg, _, diags := conf.LoadBytes("ecmp.hcl", []byte(src))
		if diags.HasErrors() {
			t.Fatalf("d%d: %s\n%s", i+1, diags.Error(), src)
		}
		if cfg.BGP == nil || len(cfg.BGP.Neighbors) != 2 || cfg.Services[0].Announce != conf.AnnounceBGP {
			t.Errorf("d%d: bgp block %+v, services %+v", i+1, cfg.BGP, cfg.Services)
		}
	}
}
