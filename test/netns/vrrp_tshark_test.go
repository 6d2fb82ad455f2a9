package netns

import (
	"context"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/test/netns/vrnet"
	"github.com/havsd/havsd/vrrp"
)

// TestVRRPTshark captures every advert havsd sends (v2, v3 IPv4 multicast
// and unicast, v3 IPv6, priority-0 adverts at shutdown) on the bridge and
// checks that tshark decodes each with checksum status Good, TTL/hop limit
// 255 and DSCP CS6. It also checks an IPv6 election.
func TestVRRPTshark(t *testing.T) {
	l := newVRLab(t, "tshark", "tcpdump")
	pcap := filepath.Join(t.TempDir(), "vrrp.pcap")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dump := exec.CommandContext(ctx, "ip", "netns", "exec", l.Bridge, "tcpdump", "-i", "br0", "-U", "--immediate-mode", "-n", "-w", pcap, "ip proto 112 or ip6 proto 112")
	dump.Cancel = func() error { return dump.Process.Signal(syscall.SIGTERM) }
	stderr := &strings.Builder{}
	dump.Stderr = stderr
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	vrnet.WaitFor(t, "tcpdump listening", 10*time.Second, func() bool { return strings.Contains(stderr.String(), "listening") })

	run := func(cfgs ...vrrp.Config) {
		t.Helper()
		var ds []*vrnet.Director
		for i, c := range cfgs {
			n := []*vrnet.Node{l.d1, l.d2}[i]
			ds = append(ds, l.start(t, n, c))
		}
		ds[0].WaitState(vrrp.StateMaster, 10*time.Second)
		time.Sleep(5 * cfgs[0].AdvertInterval)
		for _, d := range ds {
			d.Signal(syscall.SIGTERM)
		}
		for _, d := range ds {
			d.Wait(10 * time.Second)
		}
	}
	v2 := vrConfig("d1", 200, 2, time.Second)
	v2.AuthPass = "secret"
	run(v2)
	run(vrConfig("d1", 200, 3, 100*time.Millisecond))
	run(vrUnicast(vrConfig("d1", 200, 3, 100*time.Millisecond), "10.9.0.1", "10.9.0.2"))
	six := func(name string, prio uint8) vrrp.Config {
		c := vrConfig(name, prio, 3, 100*time.Millisecond)
		c.IPv6 = true
		c.VIPs = []vrrp.VIP{{Prefix: netip.MustParsePrefix(vrVIP6 + "/64")}}
		return c
	}
	d1 := l.start(t, l.d1, six("d1", 200))
	d2 := l.start(t, l.d2, six("d2", 100))
	d1.WaitState(vrrp.StateMaster, 5*time.Second)
	// d2 starts in BACKUP: wait until it has heard d1 as master, so that
	// the v6 election really ran (and its adverts were sent) before d1 stops.
	vrnet.WaitFor(t, "d2 BACKUP hearing d1's IPv6 adverts", 5*time.Second, func() bool {
		return d2.State() == vrrp.StateBackup && d2.Status().Received >= 3
	})
	if !l.d1.HasAddr(vrVIP6) || l.d2.HasAddr(vrVIP6) {
		t.Errorf("IPv6 VIP on d1 %v, d2 %v", l.d1.HasAddr(vrVIP6), l.d2.HasAddr(vrVIP6))
	}
	d1.Signal(syscall.SIGTERM)
	d2.WaitState(vrrp.StateMaster, 2*time.Second)
	d1.Wait(5 * time.Second)
	d2.Signal(syscall.SIGTERM)
	d2.Wait(5 * time.Second)
	time.Sleep(100 * time.Millisecond)
	cancel()
	_ = dump.Wait()

	ts := exec.Command("tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=,",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "vrrp.version", "-e", "vrrp.prio", "-e", "vrrp.checksum.status",
		"-e", "ip.ttl", "-e", "ipv6.hlim", "-e", "ip.dsfield.dscp", "-e", "ipv6.tclass.dscp")
	tsErr := &strings.Builder{}
	ts.Stderr = tsErr
	out, err := ts.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, tsErr)
	}
	seen := map[string]int{}
	for _, row := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(row, ",")
		if len(f) < 9 {
			t.Errorf("tshark row %q", row)
			continue
		}
		fam := "v4"
		if f[1] != "" {
			fam = "v6"
		}
		key := "v" + f[2] + " " + fam
		if f[3] == "0" {
			key += " prio0"
		}
		seen[key]++
		if f[4] != "1" && f[4] != "Good" {
			t.Errorf("checksum status %q (not Good): %s", f[4], row)
		}
		if f[5]+f[6] != "255" {
			t.Errorf("TTL/hop limit %q: %s", f[5]+f[6], row)
		}
		if f[7]+f[8] != "48" {
			t.Errorf("DSCP %q, want 48 (CS6): %s", f[7]+f[8], row)
		}
	}
	t.Logf("adverts decoded by tshark: %v", seen)
	for _, k := range []string{"v2 v4", "v3 v4", "v3 v6", "v2 v4 prio0", "v3 v4 prio0", "v3 v6 prio0"} {
		if seen[k] == 0 {
			t.Errorf("no %s advert captured", k)
		}
	}
}
