package bgp

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBGPStopWithdrawsFirst: a director announcing over BGP keeps its VIP
// on lo with ARP suppressed; on SIGTERM its next hop leaves the router's
// FIB while the daemon still runs (it withdraws, or re-announces with
// GRACEFUL_SHUTDOWN, which the router's policy ranks below the others,
// before it stops), and once it has stopped the VIP is gone from lo.
func TestBGPStopWithdrawsFirst(t *testing.T) {
	for _, gshut := range []bool{false, true} {
		name := "withdraw"
		if gshut {
			name = "graceful_shutdown"
		}
		t.Run(name, func(t *testing.T) {
			l := newLab(t, labOptions{directors: 2, hold: 3 * time.Second})
			if gshut {
				cfg := strings.Replace(l.cfg[0].String(), "bgp {\n", "bgp {\n  graceful_shutdown = true\n", 1)
				if err := os.WriteFile(l.config(0), []byte(cfg), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := l.dirs[0].Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				l.startDirector(0)
			}
			l.waitHops(30*time.Second, directorIPs(0, 1), "both directors announced")

			lo, err := l.topo.Exec(context.Background(), "d1", "ip", "-o", "addr", "show", "dev", "lo")
			if err != nil || !strings.Contains(string(lo), " "+vipPrefix.String()+" ") {
				t.Errorf("d1's lo lacks the VIP %s while it announces it: %v\n%s", vipPrefix, err, lo)
			}
			for key, want := range map[string]string{"arp_ignore": "1", "arp_announce": "2"} {
				out, err := l.topo.Exec(context.Background(), "d1", "cat", "/proc/sys/net/ipv4/conf/all/"+key)
				if got := strings.TrimSpace(string(out)); err != nil || got != want {
					t.Errorf("d1 net.ipv4.conf.all.%s = %q (%v), want %s", key, got, err, want)
				}
			}

			p := l.dirs[0]
			exit := make(chan time.Time, 1)
			go func() { <-p.Done(); exit <- time.Now() }() // when the process is reaped
			t0 := time.Now()
			if err := p.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			out := l.waitHops(10*time.Second, directorIPs(1), "d1 to leave the router's FIB after SIGTERM")
			var exited time.Time
			select {
			case exited = <-exit:
			case <-time.After(30 * time.Second):
				t.Fatal("d1 did not stop within 30s of SIGTERM")
			}
			t.Logf("SIGTERM: d1 left the router's FIB after %s, its daemon exited after %s",
				out.Sub(t0).Round(time.Millisecond), exited.Sub(t0).Round(time.Millisecond))
			if !out.Before(exited) {
				t.Errorf("d1's next hop left the FIB at %s, not before its daemon exited at %s", out.Format(time.StampMicro), exited.Format(time.StampMicro))
			}
			log := l.log("d1")
			want := "stopping: withdrawing the BGP routes"
			if gshut {
				want = "stopping: re-announcing with GRACEFUL_SHUTDOWN"
			}
			if !strings.Contains(log, want) {
				t.Errorf("d1's log lacks %q", want)
			}
			lo, err = l.topo.Exec(context.Background(), "d1", "ip", "-o", "addr", "show", "dev", "lo")
			if err != nil || strings.Contains(string(lo), " "+vipPrefix.String()+" ") {
				t.Errorf("d1's lo still holds the VIP after havsd stopped: %v\n%s", err, lo)
			}
		})
	}
}
