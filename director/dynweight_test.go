package director

import (
	"testing"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/lvs"
)

// A misc_dynamic weight reaches the table with the health change (the
// server stays up), and the configured weight comes back with the next.
func TestDirectorMiscDynamicWeight(t *testing.T) {
	h := newHarness(t, webConfig(true, 0, 0))
	rs2w := func(want int) func() bool {
		return func() bool { d, _ := h.ipvs.last(); w, ok := weights(d)["192.168.0.102:80"]; return ok && w == want }
	}
	id2 := RealID(key80, lvs.DestKey{Addr: rs2, Port: 80})
	h.healthCh <- HealthChange{ID: id2, Up: true, Weight: checks.Weight{Sets: 1, Sum: 7}}
	h.eventually("rs2 at its misc_dynamic weight 7", rs2w(7))
	h.healthCh <- HealthChange{ID: id2, Up: true}
	h.eventually("rs2 back at its configured weight", rs2w(1))
	h.healthCh <- HealthChange{ID: id2, Up: false, Weight: checks.Weight{Sets: 1, Sum: 7}}
	h.eventually("rs2 down", rs2w(0))
}
