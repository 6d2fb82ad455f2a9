package netns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/conf/keepalived"
	"github.com/havsd/havsd/test/netns/vrnet"
	"github.com/havsd/havsd/vrrp"
)

// imPair is one keepalived.conf for both directors of a pair; "@lb1" and
// "@lb2" lines give each its own settings, as operators write it.
const imPair = `global_defs {
    @lb1 router_id lb1
    @lb2 router_id lb2
}
vrrp_instance VI_1 {
    @lb1 state MASTER
    @lb2 state BACKUP
    interface eth0
    virtual_router_id 51
    @lb1 priority 150
    @lb2 priority 100
    advert_int %s
    %s
    virtual_ipaddress {
        10.9.0.100/24
    }
}
`

// imConvert converts the pair's file for one director, as havsd import
// --from keepalived --router-id id does, and returns its VRRP instance.
func imConvert(t *testing.T, text, id string) vrrp.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := keepalived.Parse(path, keepalived.Options{ConfigID: id})
	if p == nil {
		t.Fatalf("parse: %v", diags)
	}
	res, diags := keepalived.Convert(p)
	if diags.LeftOut() || diags.HasErrors() || len(res.Config.Instances) != 1 {
		t.Fatalf("conversion: %v", diags)
	}
	t.Logf("converted for %s:\n%s", id, res.HCL())
	return res.Config.Instances[0]
}

// TestKeepalivedImportOracle: for a keepalived pair, one side converted by
// havsd import runs against keepalived running the other side's original
// file. The same master is elected as with two keepalived, failover works
// both ways, neither complains about the other's adverts, and tshark
// decodes every advert as valid.
func TestKeepalivedImportOracle(t *testing.T) {
	for _, tc := range []struct {
		name, advert, extra string
		version             int
	}{
		{"v2 with PASS authentication", "1", "authentication {\n        auth_type PASS\n        auth_pass secret\n    }", 2},
		{"v3 unicast", "0.2", "version 3\n    @lb1 unicast_src_ip 10.9.0.1\n    @lb2 unicast_src_ip 10.9.0.2\n    unicast_peer {\n        @^lb1 10.9.0.1\n        @^lb2 10.9.0.2\n    }", 3},
	} {
		for _, havsdSide := range []string{"lb1", "lb2"} {
			t.Run(fmt.Sprintf("%s, havsd as %s", tc.name, havsdSide), func(t *testing.T) {
				imOracle(t, fmt.Sprintf(imPair, tc.advert, tc.extra), havsdSide, tc.version)
			})
		}
	}
}

func imOracle(t *testing.T, text, havsdSide string, version int) {
	l := newVRLab(t, "keepalived", "tshark", "tcpdump")
	kaSide := map[string]string{"lb1": "lb2", "lb2": "lb1"}[havsdSide]
	// d1 is lb1, d2 is lb2.
	hNode, kNode := l.d1, l.d2
	if havsdSide == "lb2" {
		hNode, kNode = l.d2, l.d1
	}
	cfg := imConvert(t, text, havsdSide)
	pcap, stopDump := imCapture(t, l)
	mdi := vrrp.MasterDownInterval(version, 100, cfg.AdvertInterval)
	h := l.start(t, hNode, cfg)
	k := vrnet.StartKeepalivedConf(t, kNode, "keepalived-"+kaSide, text, "-i", kaSide)

	// lb1 (priority 150) is master, whichever daemon runs it.
	var lb1, lb2 interface {
		WaitState(vrrp.State, time.Duration) time.Duration
		State() vrrp.State
	} = h, k
	if havsdSide == "lb2" {
		lb1, lb2 = k, h
	}
	lb1.WaitState(vrrp.StateMaster, 2*mdi+5*time.Second)
	lb2.WaitState(vrrp.StateBackup, 2*mdi+5*time.Second)
	time.Sleep(5 * cfg.AdvertInterval) // adverts both ways; the election must hold
	if lb1.State() != vrrp.StateMaster || lb2.State() != vrrp.StateBackup {
		t.Fatalf("lb1 %v, lb2 %v: not the election two keepalived make", lb1.State(), lb2.State())
	}
	if !l.d1.HasAddr(vrVIP) || l.d2.HasAddr(vrVIP) {
		t.Errorf("VIP on lb1 %v, lb2 %v", l.d1.HasAddr(vrVIP), l.d2.HasAddr(vrVIP))
	}
	if st := h.Status(); len(st.Drops) != 0 {
		t.Errorf("havsd dropped keepalived's adverts: %s", dropsString(st.Drops))
	}

	// Failover one way: the master stops, the backup takes over.
	start := time.Now()
	if havsdSide == "lb1" {
		h.Signal(syscall.SIGTERM)
		k.WaitState(vrrp.StateMaster, mdi+2*time.Second)
		t.Logf("havsd (lb1) stopped: keepalived (lb2) MASTER after %v", time.Since(start).Round(time.Millisecond))
		h.Wait(10 * time.Second)
		// ... and back: lb1 returns and preempts.
		h = l.start(t, hNode, cfg)
		h.WaitState(vrrp.StateMaster, 2*mdi+5*time.Second)
		k.WaitState(vrrp.StateBackup, 5*time.Second)
	} else {
		k.Stop()
		h.WaitState(vrrp.StateMaster, mdi+2*time.Second)
		t.Logf("keepalived (lb1) stopped: havsd (lb2) MASTER after %v", time.Since(start).Round(time.Millisecond))
		k = vrnet.StartKeepalivedConf(t, kNode, "keepalived-lb1-again", text, "-i", "lb1")
		k.WaitState(vrrp.StateMaster, 2*mdi+5*time.Second)
		h.WaitState(vrrp.StateBackup, 5*time.Second)
	}
	vrWaitAddr(t, l.d1, true)
	vrWaitAddr(t, l.d2, false)
	if c := k.Complaints(); len(c) > 0 {
		t.Errorf("keepalived complained about havsd's adverts:\n%s", strings.Join(c, "\n"))
	}
	h.Signal(syscall.SIGTERM)
	h.Wait(10 * time.Second)
	k.Stop()
	stopDump()
	imTshark(t, pcap, version)
}

// imCapture records VRRP on the lab's bridge until the returned func runs.
func imCapture(t *testing.T, l *vrLab) (string, func()) {
	t.Helper()
	pcap := filepath.Join(t.TempDir(), "vrrp.pcap")
	ctx, cancel := context.WithCancel(context.Background())
	dump := exec.CommandContext(ctx, "ip", "netns", "exec", l.Bridge, "tcpdump", "-i", "br0", "-U", "-n", "-w", pcap, "ip proto 112")
	dump.Cancel = func() error { return dump.Process.Signal(syscall.SIGTERM) }
	stderr := &strings.Builder{}
	dump.Stderr = stderr
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			_ = dump.Wait()
		}
	}
	t.Cleanup(stop)
	vrnet.WaitFor(t, "tcpdump listening", 10*time.Second, func() bool { return strings.Contains(stderr.String(), "listening") })
	return pcap, stop
}

// imTshark requires every captured advert, from either daemon, to decode
// with a good checksum, TTL 255 and the expected version.
func imTshark(t *testing.T, pcap string, version int) {
	t.Helper()
	ts := exec.Command("tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=,",
		"-e", "ip.src", "-e", "vrrp.version", "-e", "vrrp.prio", "-e", "vrrp.checksum.status", "-e", "ip.ttl")
	out, err := ts.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	seen := map[string]int{}
	for _, row := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(row, ",")
		if len(f) < 5 {
			t.Errorf("tshark row %q", row)
			continue
		}
		seen[f[0]]++
		if f[1] != fmt.Sprint(version) || (f[3] != "1" && f[3] != "Good") || f[4] != "255" {
			t.Errorf("advert %q: want version %d, checksum Good, TTL 255", row, version)
		}
	}
	t.Logf("adverts by sender: %v", seen)
	if seen["10.9.0.1"] == 0 || seen["10.9.0.2"] == 0 {
		t.Errorf("adverts from both directors expected: %v", seen)
	}
}
