package director

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/lvs"
)

// TestSorryServerInhibit: with sorry_server_inhibit the sorry server stays
// in the table at weight 0 while quorum holds, and takes weight when it is
// lost; without it, it is absent until then.
func TestSorryServerInhibit(t *testing.T) {
	for _, inhibit := range []bool{false, true} {
		cfg := webConfig(false, 0, 0)
		cfg.Services[0].Sorry.InhibitOnFailure = inhibit
		health := func(ok bool) Inputs {
			return Inputs{Health: map[RealKey]bool{
				{Service: key80, Dest: lvs.DestKey{Addr: rs1, Port: 80}}: ok,
				{Service: key80, Dest: lvs.DestKey{Addr: rs2, Port: 80}}: ok,
			}}
		}
		up := Compute(cfg, health(true))
		want := map[string]int{"192.168.0.101:80": 2, "192.168.0.102:80": 1}
		if inhibit {
			want["192.168.0.200:80"] = 0
		}
		if diff := cmp.Diff(want, weights(up.Desired)); diff != "" {
			t.Errorf("inhibit %v, quorum up (-want +got):\n%s", inhibit, diff)
		}
		down := Compute(cfg, health(false))
		if diff := cmp.Diff(map[string]int{"192.168.0.200:80": 1}, weights(down.Desired)); diff != "" {
			t.Errorf("inhibit %v, quorum lost (-want +got):\n%s", inhibit, diff)
		}
	}
}
