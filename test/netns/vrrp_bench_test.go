package netns

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
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

// vrUsage is a pair's CPU share (of one core) over a window, as run time
// and as clock ticks, and their RSS at its end.
type vrUsage struct {
	masterCPU, backupCPU     float64 // percent of a core, from run times
	masterTicks, backupTicks float64 // percent of a core, from clock ticks
	masterRSS, backupRSS     uint64
}

// vrMeasure samples the master's and the backup's CPU over window: cpu
// their run times, ticks their tick-based CPU times.
func vrMeasure(window time.Duration, cpu, ticks func() (m, b time.Duration), rss func() (m, b uint64)) vrUsage {
	m0, b0 := cpu()
	tm0, tb0 := ticks()
	start := time.Now()
	time.Sleep(window) // the measurement window, not synchronisation
	m1, b1 := cpu()
	tm1, tb1 := ticks()
	el := time.Since(start).Seconds()
	pc := func(d time.Duration) float64 { return 100 * d.Seconds() / el }
	u := vrUsage{masterCPU: pc(m1 - m0), backupCPU: pc(b1 - b0), masterTicks: pc(tm1 - tm0), backupTicks: pc(tb1 - tb0)}
	u.masterRSS, u.backupRSS = rss()
	return u
}

// vrInstances is n instances on eth0, VRIDs 51.., one VIP each, at iv.
func vrInstances(n int, prio uint8, iv time.Duration) (first vrrp.Config, extra []vrrp.Config) {
	for i := range n {
		c := vrConfig(fmt.Sprintf("VI_%d", i+1), prio, 3, iv)
		c.VRID = uint8(51 + i)
		c.VIPs = []vrrp.VIP{{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 9, 0, byte(100 + i)}), 24)}}
		if i == 0 {
			first = c
		} else {
			extra = append(extra, c)
		}
	}
	return first, extra
}

// TestVRRPCPUVsKeepalived is issue 14's VRRP rows: a master and a backup
// at v3 10 ms adverts with 1 and with 20 instances on one link, havsd (the
// vrrp package in a helper process) and keepalived --vrrp (parent and VRRP
// child) in the same topology and the same run: CPU share over 5 s (the
// scheduler's nanosecond run times of every thread; the tick-based figures
// top shows are printed too, but at 0.2 % of a core per tick they are as
// coarse as the one-instance figures), RSS, and the ratios. Figures only. By default (CI) one instance per side;
// HAVSD_VRRP_BENCH=full adds the 20-instance row (about a minute more).
//
//	HAVSD_VRRP_BENCH=full go test -count=1 -run TestVRRPCPUVsKeepalived -v ./test/netns
func TestVRRPCPUVsKeepalived(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement: about a minute; run without -short")
	}
	const iv, window = 10 * time.Millisecond, 5 * time.Second
	sizes := []int{1}
	if os.Getenv("HAVSD_VRRP_BENCH") == "full" {
		sizes = append(sizes, 20)
	}
	l := newVRLab(t, "keepalived")
	for _, n := range sizes {
		c1, x1 := vrInstances(n, 200, iv)
		c2, x2 := vrInstances(n, 100, iv)
		d1 := vrnet.StartDirector(t, l.d1, vrHelper, vrnet.HelperSpec{Node: "d1", Config: c1, Extra: x1})
		d2 := vrnet.StartDirector(t, l.d2, vrHelper, vrnet.HelperSpec{Node: "d2", Config: c2, Extra: x2})
		for _, c := range append([]vrrp.Config{c1}, x1...) {
			d1.WaitStateOf(c.Name, vrrp.StateMaster, 5*time.Second)
			d2.WaitStateOf(c.Name, vrrp.StateBackup, 5*time.Second)
		}
		time.Sleep(time.Second) // past start-up and the GARP bursts
		hv := vrMeasure(window, func() (time.Duration, time.Duration) { return schedCPU(d1.Pid()), schedCPU(d2.Pid()) },
			func() (time.Duration, time.Duration) { return d1.CPUTime(), d2.CPUTime() },
			func() (uint64, uint64) { return d1.RSS(), d2.RSS() })
		if n == 1 {
			vrStrace(t, "havsd master", d1.Pid())
			vrStrace(t, "havsd backup", d2.Pid())
		}
		d1.Kill()
		d2.Kill()

		kconf := func(id string, prio int) string {
			kc := netlab.KeepalivedConf{RouterID: id, Version: 3}
			for _, c := range append([]vrrp.Config{c1}, x1...) {
				kc.Instances = append(kc.Instances, netlab.KeepalivedInstance{Name: c.Name, Interface: "eth0", VRID: int(c.VRID),
					Priority: prio, Advert: iv, VIPs: []string{c.VIPs[0].Prefix.String()}})
			}
			return kc.String()
		}
		k1 := vrnet.StartKeepalivedConf(t, l.d1, "k1", kconf("k1", 200))
		k2 := vrnet.StartKeepalivedConf(t, l.d2, "k2", kconf("k2", 100))
		k1.WaitState(vrrp.StateMaster, 10*time.Second)
		vrnet.WaitFor(t, "every keepalived VIP on d1", 10*time.Second, func() bool {
			return l.d1.HasAddr(fmt.Sprintf("10.9.0.%d", 100+n-1))
		})
		time.Sleep(time.Second)
		ka := vrMeasure(window, func() (time.Duration, time.Duration) {
			return schedCPU(k1.VRRPPid(), vrParent(k1.VRRPPid())), schedCPU(k2.VRRPPid(), vrParent(k2.VRRPPid()))
		}, func() (time.Duration, time.Duration) {
			m, _ := k1.Usage()
			b, _ := k2.Usage()
			return m, b
		}, func() (uint64, uint64) {
			_, m := k1.Usage()
			_, b := k2.Usage()
			return m, b
		})
		if n == 1 {
			vrStrace(t, "keepalived master (VRRP child)", k1.VRRPPid())
			vrStrace(t, "keepalived backup (VRRP child)", k2.VRRPPid())
		}
		k1.Stop()
		k2.Stop()
		mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
		t.Logf("v3 10 ms, %2d instance(s): master CPU havsd %.2f%% keepalived %.2f%% (%.2fx); backup CPU havsd %.2f%% keepalived %.2f%% (%.2fx)",
			n, hv.masterCPU, ka.masterCPU, hv.masterCPU/ka.masterCPU, hv.backupCPU, ka.backupCPU, hv.backupCPU/ka.backupCPU)
		t.Logf("v3 10 ms, %2d instance(s): same window in clock ticks (as top shows): master havsd %.2f%% keepalived %.2f%%; backup havsd %.2f%% keepalived %.2f%%",
			n, hv.masterTicks, ka.masterTicks, hv.backupTicks, ka.backupTicks)
		t.Logf("v3 10 ms, %2d instance(s): RSS master havsd %.1f MB keepalived %.1f MB (%.2fx); backup havsd %.1f MB keepalived %.1f MB (%.2fx)",
			n, mb(hv.masterRSS), mb(ka.masterRSS), mb(hv.masterRSS)/mb(ka.masterRSS), mb(hv.backupRSS), mb(ka.backupRSS), mb(hv.backupRSS)/mb(ka.backupRSS))
	}
}

// schedCPU is the time the processes' threads have run, from
// /proc/PID/task/*/schedstat (nanoseconds); pids <= 0 are skipped.
func schedCPU(pids ...int) time.Duration {
	var sum time.Duration
	for _, pid := range pids {
		if pid <= 0 {
			continue
		}
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, task := range tasks {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, task.Name()))
			if err != nil {
				continue
			}
			var ns int64
			if _, err := fmt.Sscan(string(b), &ns); err == nil {
				sum += time.Duration(ns)
			}
		}
	}
	return sum
}

// vrParent is the parent of keepalived's VRRP child pid, the keepalived
// parent process; 0 if unknown or not a keepalived.
func vrParent(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold spaces, so start after ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	var ppid int
	_, _ = fmt.Sscan(f[1], &ppid)
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ppid))
	if err != nil || strings.TrimSpace(string(comm)) != "keepalived" {
		return 0
	}
	return ppid
}

// vrStrace logs strace -c -f of pid over 5 s (the system calls behind the
// CPU figures), when strace is installed.
func vrStrace(t *testing.T, who string, pid int) {
	t.Helper()
	if _, err := exec.LookPath("strace"); err != nil || pid <= 0 {
		t.Logf("%s: no strace figures (strace not installed or no pid)", who)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "strace", "-c", "-f", "-p", fmt.Sprint(pid))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	out, _ := cmd.CombinedOutput()
	// One "Process N attached/detached" line per thread comes first: keep
	// the table.
	var lines []string
	for _, ln := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(ln, "strace: Process ") {
			lines = append(lines, ln)
		}
	}
	t.Logf("strace -c -f of the %s over 5 s:\n%s", who, strings.Join(lines[:min(len(lines), 16)], "\n"))
}
