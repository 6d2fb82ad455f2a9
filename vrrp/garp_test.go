package vrrp

import (
	"fmt"
	"testing"
	"time"
)

// TestGARPCountMeansCount: a new master announces its VIPs exactly
// garp count times (the synchronous first one included), none with 0.
func TestGARPCountMeansCount(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("count=%d", n), func(t *testing.T) {
			lb := newLab(t)
			cfg := testConfig("a", 200)
			cfg.GARP = GARP{Count: n, Interval: 10 * time.Millisecond}
			a := lb.start(cfg, "10.0.0.1")
			lb.waitFor("a master", func() bool { return a.state() == StateMaster && a.vips.has(vip100) })
			start := lb.clock.Now()
			lb.waitFor("a second of bursts", func() bool { return lb.clock.Now().Sub(start) >= time.Second })
			if got := a.vips.announced(); got != n {
				t.Errorf("garp count %d: %d announcements", n, got)
			}
		})
	}
}
