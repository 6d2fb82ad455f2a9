//go:build linux

package checks

// The checker against keepalived's in the qemu VM (one emulated CPU: a
// slow director), in the same boot: HTTP checks at a 1 s interval against
// loopback servers of a child process, at each rate of -vm.rates, first
// keepalived 2.2.7's checker (keepalived --check, which needs IPVS, hence
// the VM), then havsd's scheduler in a child process of its own. For each
// side: the servers declared down (none is: a down is a false down), the
// CPU of the checker's processes, and the CPU per check; and the floor:
// one connect + request + response + close with bare system calls.
//
//	HAVSD_VM_PKGS=./checks test/vm/run-tests.sh -test.run TestVMCheckers [-vm.rates 100,300,1000 -vm.d 20s]

import (
	"bufio"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/test/need"
)

var (
	vmRates = flag.String("vm.rates", "100,300", "checks per second (servers at a 1 s interval) in TestVMCheckers")
	vmD     = flag.Duration("vm.d", 10*time.Second, "measured time per side and rate in TestVMCheckers")
)

// vmSide is one checker's figures at one rate.
type vmSide struct {
	downs  int           // servers declared down (all are healthy)
	cpu    time.Duration // CPU of the checker's processes over the window
	checks float64       // checks run over the window
}

func (s vmSide) perCheck() time.Duration {
	if s.checks == 0 {
		return 0
	}
	return time.Duration(float64(s.cpu) / s.checks)
}

func TestVMCheckers(t *testing.T) {
	if os.Getenv("HAVSD_VM") != "1" {
		t.Skip("runs in the IPVS VM: HAVSD_VM_PKGS=./checks test/vm/run-tests.sh -test.run TestVMCheckers")
	}
	need.Binaries(t, "keepalived")
	var rates []int
	for _, f := range strings.Split(*vmRates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r <= 0 {
			t.Fatalf("-vm.rates: %q is not a positive number", f)
		}
		rates = append(rates, r)
	}
	n := 0
	for _, r := range rates {
		n = max(n, r)
	}
	raiseNoFile(uint64(4*n + 1000))
	srv := startScaleChild(t, n)
	floor := vmFloor(t, srv.addrs[0])
	report := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		fmt.Println("BENCH " + line)
		t.Log(line)
	}
	report("floor: one HTTP check with bare system calls (socket, connect, write, read to EOF, close) costs %s of CPU in this VM", floor)
	report("| servers (checks/s asked) | keepalived: down, checks/s done, CPU ticks in %s, CPU/check | havsd: same | CPU/check havsd/keepalived | havsd/floor | keepalived/floor |", *vmD)
	for _, rate := range rates {
		var addrs []string
		for _, ap := range srv.addrs[:rate] {
			addrs = append(addrs, ap.String())
		}
		ka := runKeepalivedChecker(t, srv, addrs, *vmD)
		hv := runHavsdChecker(t, srv, addrs, *vmD)
		report("| %d | %d down, %.0f/s, %d, %s | %d down, %.0f/s, %d, %s | %.2fx | %.1fx | %.1fx |", rate,
			ka.downs, ka.checks/vmD.Seconds(), ka.cpu/(10*time.Millisecond), ka.perCheck().Round(time.Microsecond),
			hv.downs, hv.checks/vmD.Seconds(), hv.cpu/(10*time.Millisecond), hv.perCheck().Round(time.Microsecond),
			float64(hv.perCheck())/float64(max(ka.perCheck(), 1)),
			float64(hv.perCheck())/float64(floor), float64(ka.perCheck())/float64(floor))
		if ka.downs == 0 && hv.downs > 0 {
			t.Errorf("at %d checks/s keepalived kept every server up, havsd declared %d down", rate, hv.downs)
		}
	}
}

// vmFloor measures the CPU of one HTTP check made of bare system calls.
func vmFloor(t *testing.T, ap netip.AddrPort) time.Duration {
	t.Helper()
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	buf := make([]byte, 4096)
	const n = 300
	cpu0 := cpuTime()
	for range n {
		if err := rawHTTPCheck(ap, req, buf); err != nil {
			t.Fatal(err)
		}
	}
	return (cpuTime() - cpu0) / n
}

// keepalivedConf writes keepalived's equivalent of starveSpec for addrs:
// one virtual server, an HTTP_GET per real server.
func keepalivedConf(addrs []string) string {
	var b strings.Builder
	b.WriteString("global_defs {\n  router_id havsd_vm_checks\n}\n")
	b.WriteString("virtual_server 10.250.0.1 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n")
	for _, a := range addrs {
		host, port, _ := strings.Cut(a, ":")
		fmt.Fprintf(&b, "  real_server %s %s {\n    weight 1\n    HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n"+
			"      connect_timeout 1\n      retry 1\n      delay_before_retry 1\n    }\n  }\n", host, port)
	}
	b.WriteString("}\n")
	return b.String()
}

// runKeepalivedChecker runs keepalived's checker on addrs: 3 s to settle,
// then d measured. A down is a "Removing service" line in its log.
func runKeepalivedChecker(t *testing.T, srv *scaleChild, addrs []string, d time.Duration) vmSide {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(keepalivedConf(addrs)), 0o644); err != nil {
		t.Fatal(err)
	}
	checkPid := filepath.Join(dir, "check.pid")
	cmd := exec.Command("keepalived", "--dont-fork", "--log-console", "--check", "-f", conf,
		"-p", filepath.Join(dir, "keepalived.pid"), "-c", checkPid, "-r", filepath.Join(dir, "vrrp.pid"))
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting keepalived: %v", err)
	}
	var downs, lines atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines.Add(1)
			if strings.Contains(sc.Text(), "Removing service") {
				downs.Add(1)
			}
		}
	}()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM) // by PID: the keepalived this test started
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		cmd.Wait()
		exec.Command("ipvsadm", "-C").Run()
	}()
	var child int
	deadline := time.Now().Add(20 * time.Second)
	for child == 0 {
		if b, err := os.ReadFile(checkPid); err == nil {
			child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if time.Now().After(deadline) {
			t.Fatalf("keepalived's checker process did not start (%d log lines)", lines.Load())
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
	time.Sleep(3 * time.Second) // settle: every server checked once (warm-up spreads the first checks over delay_loop)
	c0, r0 := procCPU(cmd.Process.Pid)+procCPU(child), srv.requests(t)
	time.Sleep(d) // the measurement window
	c1, r1 := procCPU(cmd.Process.Pid)+procCPU(child), srv.requests(t)
	if procCPU(child) == 0 {
		t.Errorf("keepalived's checker (pid %d) is gone", child)
	}
	return vmSide{downs: int(downs.Load()), cpu: c1 - c0, checks: float64(r1 - r0)}
}

// runHavsdChecker runs the scheduler in a child process on addrs: 3 s to
// settle, then d measured.
func runHavsdChecker(t *testing.T, srv *scaleChild, addrs []string, d time.Duration) vmSide {
	t.Helper()
	h := startStarvedChecker(t, addrs)
	defer func() { h.stdin.Close(); h.cmd.Process.Kill(); h.cmd.Wait() }()
	time.Sleep(3 * time.Second) // settle, as for keepalived
	s0, c0, r0 := h.statsNow(), procCPU(h.cmd.Process.Pid), srv.requests(t)
	time.Sleep(d) // the measurement window
	s1, c1, r1 := h.statsNow(), procCPU(h.cmd.Process.Pid), srv.requests(t)
	t.Logf("havsd at %d servers: %d checks (%d requests answered), %d failures, %d stalls, %d retried, start lag %s, in-flight limit %d",
		len(addrs), s1.Checks-s0.Checks, r1-r0, s1.Failures-s0.Failures, s1.Stalls-s0.Stalls, s1.StallRetries-s0.StallRetries, s1.StartLag, s1.InFlightLimit)
	return vmSide{downs: len(h.downSet()), cpu: c1 - c0, checks: float64(r1 - r0)}
}
