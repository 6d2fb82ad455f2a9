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
