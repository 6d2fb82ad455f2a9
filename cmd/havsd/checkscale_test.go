package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/test/need"
)

// scaleConfigs writes the same table twice, as havsd.hcl and as
// keepalived.conf: n NAT services of 4 TCP-checked real servers each.
func scaleConfigs(t testing.TB, n int) (hclPath, kaPath string) {
	t.Helper()
	var h, k strings.Builder
	k.WriteString("global_defs {\n  router_id lvs1\n}\n")
	for i := range n {
		vip := fmt.Sprintf("10.%d.%d.%d", 200+i>>16, i>>8&255, i&255)
		fmt.Fprintf(&h, "virtual_service \"s%d\" {\n  protocol  = \"tcp\"\n  address   = \"%s:80\"\n  scheduler = \"wrr\"\n  forward   = \"nat\"\n"+
			"  check \"tcp\" {\n    interval = \"1s\"\n    timeout  = \"1s\"\n  }\n", i, vip)
		fmt.Fprintf(&k, "virtual_server %s 80 {\n  delay_loop 1\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n", vip)
		for j := range 4 {
			rs := fmt.Sprintf("10.%d.%d.%d", i>>8&255, i&255, 10+j)
			fmt.Fprintf(&h, "  real_server \"%s:8080\" {\n    inhibit_on_failure = true\n  }\n", rs)
			fmt.Fprintf(&k, "  real_server %s 8080 {\n    weight 1\n    inhibit_on_failure\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n", rs)
		}
		h.WriteString("}\n")
		k.WriteString("}\n")
	}
	dir := t.TempDir()
	hclPath, kaPath = filepath.Join(dir, "havsd.hcl"), filepath.Join(dir, "keepalived.conf")
	for p, s := range map[string]string{hclPath: h.String(), kaPath: k.String()} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return hclPath, kaPath
}

// cost is what one run of a config test took: wall time, CPU (user+system)
// and peak RSS, from wait4's rusage (what /usr/bin/time -v reports).
type cost struct {
	wall, cpu time.Duration
	peakKB    int64
}

// runCost runs cmd to its end and measures it; the run must succeed.
func runCost(t testing.TB, cmd *exec.Cmd) cost {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return cost{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), peakKB: ru.Maxrss}
}

// checkCosts runs havsd check (this test binary as havsd) and keepalived -t
// on the same n-service table, alternately, rounds times each, and
// returns the best run of each (the least disturbed by other load).
func checkCosts(t testing.TB, n, rounds int) (havsd, ka cost) {
	t.Helper()
	need.Binaries(t, "keepalived")
	hclPath, kaPath := scaleConfigs(t, n)
	best := func(c *cost, r cost) {
		if c.wall == 0 || r.wall < c.wall {
			c.wall, c.cpu = r.wall, r.cpu
		}
		c.peakKB = max(c.peakKB, r.peakKB)
	}
	for range rounds {
		h := exec.Command(os.Args[0], "check", "-q", "-f", hclPath)
		h.Env = append(os.Environ(), execHavsdEnv+"=1")
		best(&havsd, runCost(t, h))
		best(&ka, runCost(t, exec.Command("keepalived", "-t", "-f", kaPath)))
	}
	return havsd, ka
}

// BenchmarkCheckVsKeepalived is issue 14's configuration row: havsd check
// and keepalived -t of 10,000 services × 4 real servers in the same run,
// wall time (best of 3), CPU and peak RSS, with the ratios. Run with
//
//	go test -run XX -bench CheckVsKeepalived -benchtime 1x ./cmd/havsd
func BenchmarkCheckVsKeepalived(b *testing.B) {
	for b.Loop() {
		h, k := checkCosts(b, 10000, 3)
		b.ReportMetric(h.wall.Seconds(), "havsd-s")
		b.ReportMetric(k.wall.Seconds(), "keepalived-s")
		b.ReportMetric(h.wall.Seconds()/k.wall.Seconds(), "time-ratio")
		b.ReportMetric(h.cpu.Seconds()/k.cpu.Seconds(), "cpu-ratio")
		b.ReportMetric(float64(h.peakKB)/1024, "havsd-peak-MB")
		b.ReportMetric(float64(k.peakKB)/1024, "keepalived-peak-MB")
		b.ReportMetric(float64(h.peakKB)/float64(k.peakKB), "peak-ratio")
		b.Logf("10,000 services x 4: havsd check %v (cpu %v, peak %d KB), keepalived -t %v (cpu %v, peak %d KB): time %.2fx, peak %.2fx",
			h.wall.Round(time.Millisecond), h.cpu.Round(time.Millisecond), h.peakKB,
			k.wall.Round(time.Millisecond), k.cpu.Round(time.Millisecond), k.peakKB,
			h.wall.Seconds()/k.wall.Seconds(), float64(h.peakKB)/float64(k.peakKB))
	}
}

// TestCheckScaleSmoke is the benchmark's CI smoke: both programs accept the
// generated table of 200 services (so the benchmark compares the same
// work), and the figures are printed.
func TestCheckScaleSmoke(t *testing.T) {
	h, k := checkCosts(t, 200, 1)
	t.Logf("200 services x 4: havsd check %v peak %d KB, keepalived -t %v peak %d KB", h.wall, h.peakKB, k.wall, k.peakKB)
}
