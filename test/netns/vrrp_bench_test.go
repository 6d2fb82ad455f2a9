package netns

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/test/netns/vrnet"
	"github.com/havsd/havsd/vrrp"
)

// TestVRRPCPU prints the CPU share of a master and a backup at a 10 ms
// advert interval over about 10 s (measured, not asserted).
func TestVRRPCPU(t *testing.T) {
	l := newVRLab(t)
	iv := 10 * time.Millisecond
	d1 := l.start(t, l.d1, vrConfig("d1", 200, 3, iv))
	d2 := l.start(t, l.d2, vrConfig("d2", 100, 3, iv))
	d1.WaitState(vrrp.StateMaster, 5*time.Second)
	d2.WaitState(vrrp.StateBackup, 5*time.Second)
	time.Sleep(time.Second) // past start-up and the first GARP burst
	c1, c2, start := d1.CPUTime(), d2.CPUTime(), time.Now()
	time.Sleep(10 * time.Second)
	el := time.Since(start)
	u1, u2 := d1.CPUTime()-c1, d2.CPUTime()-c2
	s1 := d1.Status()
	t.Logf("CPU at a 10 ms advert interval over %v: master %v (%.2f%% of a core), backup %v (%.2f%% of a core); master sent %d adverts",
		el.Round(time.Millisecond), u1, 100*u1.Seconds()/el.Seconds(), u2, 100*u2.Seconds()/el.Seconds(), s1.Sent)
	if d1.State() != vrrp.StateMaster || d2.State() != vrrp.StateBackup {
		t.Errorf("states changed during the run: d1 %v d2 %v (transitions d2: %d)", d1.State(), d2.State(), len(d2.Events()))
	}
}

// TestVRRPFailoverDrill prints the client's reachability gap for crash
// (SIGKILL + link down) and graceful stop (SIGTERM) at several intervals:
// min/median/max over a few runs. Figures only, no asserts on speed.
func TestVRRPFailoverDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("drill: long; run without -short")
	}
	rows := []struct {
		version int
		iv      time.Duration
	}{{3, 100 * time.Millisecond}, {3, 50 * time.Millisecond}, {3, 10 * time.Millisecond}}
	const runs = 3
	l := newVRLab(t)
	// Failovers follow each other within a second here: let the client's
	// ARP cache accept the new master's gratuitous ARP at once (locktime
	// would otherwise ignore it for up to 1 s after the previous change).
	if err := l.client.Sysctl("net/ipv4/neigh/eth0/locktime", "0"); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var crash, graceful, crashTO, gracefulTO []time.Duration
		// takeover is the time from the trigger to d2's MASTER transition.
		takeover := func(d *vrnet.Director, from time.Time) time.Duration {
			ev := d.Events()
			return ev[len(ev)-1].At.Sub(from)
		}
		for range runs {
			c1, c2 := vrConfig("d1", 200, r.version, r.iv), vrConfig("d2", 100, r.version, r.iv)
			d1 := l.start(t, l.d1, c1)
			d2 := l.start(t, l.d2, c2)
			d1.WaitState(vrrp.StateMaster, 5*time.Second)
			d2.WaitState(vrrp.StateBackup, 5*time.Second)
			waitReach(t, l.client, "d1", 5*time.Second)
			p := startProberTimeout(l.client, vrVIP+vrPort, 20*time.Millisecond)
			time.Sleep(50 * time.Millisecond)
			killed := time.Now()
			d1.Kill()
			l.MustIP(l.d1.NS, "link", "set", "eth0", "down")
			d2.WaitState(vrrp.StateMaster, 5*time.Second)
			waitReach(t, l.client, "d2", 5*time.Second)
			gap, failed, who := p.finish()
			t.Logf("crash run: gap %v, %d failed probes, answered by %v", gap, failed, who)
			crash = append(crash, gap)
			crashTO = append(crashTO, takeover(d2, killed))
			l.MustIP(l.d1.NS, "link", "set", "eth0", "up")

			d1 = l.start(t, l.d1, c1)
			d1.WaitState(vrrp.StateMaster, 5*time.Second)
			d2.WaitState(vrrp.StateBackup, 5*time.Second)
			waitReach(t, l.client, "d1", 5*time.Second)
			p = startProberTimeout(l.client, vrVIP+vrPort, 20*time.Millisecond)
			time.Sleep(50 * time.Millisecond)
			termed := time.Now()
			d1.Signal(syscall.SIGTERM)
			d2.WaitState(vrrp.StateMaster, 5*time.Second)
			d1.Wait(5 * time.Second)
			waitReach(t, l.client, "d2", 5*time.Second)
			gap, failed, who = p.finish()
			t.Logf("graceful run: gap %v, %d failed probes, answered by %v", gap, failed, who)
			graceful = append(graceful, gap)
			gracefulTO = append(gracefulTO, takeover(d2, termed))
			d2.Kill()
		}
		t.Logf("v%d %v: crash: takeover %s, client gap %s (Master_Down_Interval %v); graceful: takeover %s, client gap %s (Skew_Time %v)",
			r.version, r.iv, vrStats(crashTO), vrStats(crash), vrrp.MasterDownInterval(r.version, 100, r.iv),
			vrStats(gracefulTO), vrStats(graceful), vrrp.SkewTime(r.version, 100, r.iv))
	}
}

func vrStats(ds []time.Duration) string {
	slices.Sort(ds)
	return fmt.Sprintf("min %v median %v max %v", ds[0].Round(time.Millisecond), ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
}
