package bgp

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/poll"
)

// TestBGPECMP: BIRD 2 peers with three havsd directors and its kernel holds
// one multipath route to the VIP with one next hop per healthy director; a
// director that loses quorum is withdrawn within a second, a drained one is
// withdrawn and keeps serving its established flows, a SIGKILLed one is
// withdrawn within the hold time and a restarted one returns.
func TestBGPECMP(t *testing.T) {
	const hold = 3 * time.Second
	l := newLab(t, labOptions{directors: 3, hold: hold})
	all := directorIPs(0, 1, 2)
	l.waitHops(30*time.Second, all, "one route with every director as next hop")
	route := l.ipRoute()
	for _, ip := range all {
		if !strings.Contains(route, "nexthop via "+ip.String()+" ") {
			t.Errorf("ip route show %s in the router lacks a next hop via %s:\n%s", vipPrefix, ip, route)
		}
	}
	if strings.Count(route, "nexthop") != 3 {
		t.Errorf("want exactly three next hops:\n%s", route)
	}
	// The router's L4 hash spreads new connections over every director.
	src := sources(16)
	seen := map[string]int{}
	for i := 0; i < 90; i++ {
		via, err := l.getOnce(src[i%len(src)])
		if err != nil {
			t.Fatalf("request %d through the VIP: %v", i+1, err)
		}
		seen[via]++
	}
	t.Logf("90 new connections from %d source addresses: %v", len(src), seen)
	for i := 0; i < 3; i++ {
		if seen[netlab.ECMPDirectorName(i)] == 0 {
			t.Errorf("no connection reached %s: %v", netlab.ECMPDirectorName(i), seen)
		}
	}

	t.Run("quorum loss withdraws within a second", func(t *testing.T) {
		t0 := time.Now()
		failReals(t, l, 0, "add")
		out := l.waitHops(10*time.Second, directorIPs(1, 2), "d1 to leave after its real servers failed")
		lost, ok := netlab.QuorumLostIn([]byte(l.log("d1")), t0)
		if !ok {
			t.Fatalf("d1's log has no quorum loss after %s", t0.Format(time.RFC3339Nano))
		}
		d := out.Sub(lost)
		t.Logf("d1: quorum lost %s after its real servers became unreachable; its next hop left the router's FIB %s later", lost.Sub(t0).Round(time.Millisecond), d.Round(time.Millisecond))
		if d > time.Second {
			t.Errorf("withdrawn %s after the quorum loss, want within 1s", d)
		}
		failReals(t, l, 0, "del")
		l.waitHops(15*time.Second, all, "d1 to return once its real servers answer again")
	})

	t.Run("drain withdraws and keeps established flows", func(t *testing.T) {
		// A client address that the router pins to d2 (policy route), so
		// that its connection still reaches d2 after the withdrawal: what
		// matters is that d2 goes on serving it.
		pinned := netlab.ECMPSource(15)
		ip(t, l, netlab.ECMPRouter, "rule", "add", "from", pinned.String(), "lookup", "200", "pref", "100")
		ip(t, l, netlab.ECMPRouter, "route", "add", vipPrefix.String(), "via", netlab.ECMPDirectorIP(1).String(), "table", "200")
		f, err := l.openFlow(pinned)
		if err != nil {
			t.Fatal(err)
		}
		if via, err := f.get(); err != nil || via != "d2" {
			t.Fatalf("pinned flow answered by %q, %v; want d2", via, err)
		}
		t0 := time.Now()
		if out, err := l.ctl(1, "drain"); err != nil {
			t.Fatalf("havsd drain: %v\n%s", err, out)
		}
		out := l.waitHops(5*time.Second, directorIPs(0, 2), "d2 to leave after havsd drain")
		t.Logf("d2 left the router's FIB %s after havsd drain", out.Sub(t0).Round(time.Millisecond))
		// The established flow goes on, answered by d2, for a second.
		n := 0
		ok := poll.Holds(time.Second, func() bool {
			via, err := f.get()
			if err != nil || via != "d2" {
				t.Errorf("established flow after the drain: answered by %q, %v", via, err)
				return false
			}
			n++
			return true
		})
		if !ok || n < 10 {
			t.Errorf("established flow after the drain: %d exchanges, ok=%v", n, ok)
		}
		if st, err := l.ctl(1, "status"); err != nil || !strings.Contains(strings.ToLower(st), "drain") {
			t.Errorf("havsd status of a drained director does not say so: %v\n%s", err, st)
		}
		if out, err := l.ctl(1, "undrain"); err != nil {
			t.Fatalf("havsd undrain: %v\n%s", err, out)
		}
		l.waitHops(10*time.Second, all, "d2 to return after havsd undrain")
	})

	t.Run("SIGKILL withdraws at once, a restart returns", func(t *testing.T) {
		// The kernel closes a killed daemon's sockets: BIRD sees the
		// session end without waiting for its hold timer.
		t0 := time.Now()
		if err := l.dirs[2].Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		out := l.waitHops(hold+5*time.Second, directorIPs(0, 1), "d3 to leave after SIGKILL")
		d := out.Sub(t0)
		t.Logf("d3 left the router's FIB %s after SIGKILL (hold time %s)", d.Round(time.Millisecond), hold)
		if d > hold {
			t.Errorf("withdrawn %s after SIGKILL, want within the hold time %s", d, hold)
		}
		t1 := time.Now()
		l.startDirector(2)
		back := l.waitHops(30*time.Second, all, "d3 to return after its restart")
		t.Logf("d3 back in the router's FIB %s after its restart", back.Sub(t1).Round(time.Millisecond))
	})

	t.Run("a crashed director leaves within the hold time", func(t *testing.T) {
		// The box is gone: its link drops and its daemon dies, nothing
		// closes the session, the router's hold timer ends it.
		t0 := time.Now()
		ip(t, l, "d3", "link", "set", "eth0", "down")
		if err := l.dirs[2].Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		out := l.waitHops(hold+5*time.Second, directorIPs(0, 1), "d3 to leave after its crash")
		d := out.Sub(t0)
		t.Logf("d3 left the router's FIB %s after its crash (hold time %s)", d.Round(time.Millisecond), hold)
		// BIRD's hold timer runs from the last message received, so the
		// route goes at most one hold time after the crash; 500 ms for
		// the timer's granularity and a loaded machine's scheduling.
		if d > hold+500*time.Millisecond {
			t.Errorf("withdrawn %s after the crash, want within the hold time %s", d, hold)
		}
		ip(t, l, "d3", "link", "set", "eth0", "up")
		ip(t, l, "d3", "route", "replace", "default", "via", netlab.ECMPRouterIP.String())
		l.startDirector(2)
		l.waitHops(30*time.Second, all, "d3 to return after its reboot")
	})
}

func ip(t *testing.T, l *lab, node string, args ...string) {
	t.Helper()
	if err := l.topo.IP(context.Background(), node, args...); err != nil {
		t.Fatal(err)
	}
}

// failReals makes every real server unreachable (op "add") from director
// i alone, or reachable again ("del").
func failReals(t *testing.T, l *lab, i int, op string) {
	t.Helper()
	for r := 0; r < 2; r++ {
		ip(t, l, netlab.ECMPDirectorName(i), "route", op, "prohibit", netlab.ECMPRealIP(r).String()+"/32")
	}
}
