package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/havsd/havsd/test/need"
)

// parseOnlyEnv makes this test binary only parse the HCL file it names, as
// havsd check's parser does (hclsyntax.ParseConfig over pieces of about
// 4 KB cut between top-level blocks), and exit: the floor of check's cost
// with hcl/v2, measured beside keepalived -t.
const parseOnlyEnv = "HAVSD_TEST_PARSE_ONLY"

func init() {
	if path := os.Getenv(parseOnlyEnv); path != "" {
		os.Exit(parseOnly(path))
	}
}

// parseOnly parses the generated table (scaleConfigs) in pieces starting
// at its virtual_service lines; 1 if it cannot.
func parseOnly(path string) int {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	start, line, startLine := 0, 1, 1
	parse := func(end int) bool {
		f, diags := hclsyntax.ParseConfig(src[start:end], path, hcl.Pos{Line: startLine, Column: 1, Byte: start})
		if diags.HasErrors() || f == nil {
			fmt.Fprintln(os.Stderr, diags)
			return false
		}
		return true
	}
	for i, c := range src {
		if c != '\n' {
			continue
		}
		line++
		if i+1-start >= 4<<10 && bytes.HasPrefix(src[i+1:], []byte("virtual_service ")) {
			if !parse(i + 1) {
				return 1
			}
			start, startLine = i+1, line
		}
	}
	if !parse(len(src)) {
		return 1
	}
	return 0
}

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

// runCost runs cmd to its end through the starter program (starterSrc)
// and measures it; the run must succeed. Go starts a program with vfork,
// and Linux counts the parent's peak RSS in the child's (ru_maxrss
// survives the exec): a program started by the test itself would report
// at least the test's own peak (70 MB with the 10,000-service tables in
// memory, more than keepalived -t's 37 MB), and one started by a copy of
// this test binary at least its 32 MB. The starter is a few MB.
func runCost(t testing.TB, starter string, cmd *exec.Cmd) cost {
	t.Helper()
	res := filepath.Join(t.TempDir(), "cost")
	m := exec.Command(starter, append([]string{res, cmd.Path}, cmd.Args[1:]...)...)
	m.Env = cmd.Env
	var out bytes.Buffer
	m.Stdout, m.Stderr = &out, &out
	if err := m.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	b, err := os.ReadFile(res)
	if err != nil {
		t.Fatal(err)
	}
	var wall, cpu time.Duration
	var peak, starterPeak int64
	if _, err := fmt.Sscan(string(b), &wall, &cpu, &peak, &starterPeak); err != nil {
		t.Fatalf("%s: %q: %v", res, b, err)
	}
	if peak <= starterPeak {
		t.Fatalf("%s: peak RSS %d KB is its starter's (%d KB): not its own", strings.Join(cmd.Args, " "), peak, starterPeak)
	}
	return cost{wall: wall, cpu: cpu, peakKB: peak}
}

// starterSrc is the program runCost starts programs with: starter OUT
// PROGRAM ARGS... runs the program and writes its wall time and CPU
// (nanoseconds), its peak RSS and the starter's own (KB) to OUT.
const starterSrc = `package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

func main() {
	var own int64
	st, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Sscan(strings.TrimSpace(v), &own)
		}
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if err := os.WriteFile(os.Args[1], fmt.Appendf(nil, "%d %d %d %d\n", wall, cpu, ru.Maxrss, own), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`

// buildStarter compiles starterSrc.
func buildStarter(t testing.TB) string {
	t.Helper()
	need.Binaries(t, "go")
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "starter.go"), filepath.Join(dir, "starter")
	if err := os.WriteFile(src, []byte(starterSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", bin, src)
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the starter: %v\n%s", err, out)
	}
	return bin
}

// checkCosts runs havsd check (this test binary as havsd), keepalived -t
// and the parse alone (parseOnly) on the same n-service table,
// alternately, rounds times each, and returns the best run of each (the
// least disturbed by other load).
func checkCosts(t testing.TB, n, rounds int) (havsd, ka, parse cost) {
	t.Helper()
	need.Binaries(t, "keepalived")
	hclPath, kaPath := scaleConfigs(t, n)
	starter := buildStarter(t)
	best := func(c *cost, r cost) {
		if c.wall == 0 || r.wall < c.wall {
			c.wall, c.cpu = r.wall, r.cpu
		}
		c.peakKB = max(c.peakKB, r.peakKB)
	}
	for range rounds {
		h := exec.Command(os.Args[0], "check", "-q", "-f", hclPath)
		h.Env = append(os.Environ(), execHavsdEnv+"=1")
		best(&havsd, runCost(t, starter, h))
		best(&ka, runCost(t, starter, exec.Command("keepalived", "-t", "-f", kaPath)))
		p := exec.Command(os.Args[0])
		p.Env = append(os.Environ(), parseOnlyEnv+"="+hclPath)
		best(&parse, runCost(t, starter, p))
	}
	return havsd, ka, parse
}

// BenchmarkCheckVsKeepalived is issue 14's configuration row: havsd check
// and keepalived -t of 10,000 services × 4 real servers in the same run,
// wall time (best of 3), CPU and peak RSS, with the ratios; and the CPU
// of hcl's parser alone on the table (parse-cpu-ratio, the floor of
// havsd's cpu-ratio while it parses with hcl/v2). Run with
//
//	go test -run XX -bench CheckVsKeepalived -benchtime 1x ./cmd/havsd
func BenchmarkCheckVsKeepalived(b *testing.B) {
	for b.Loop() {
		h, k, p := checkCosts(b, 10000, 3)
		b.ReportMetric(h.wall.Seconds(), "havsd-s")
		b.ReportMetric(k.wall.Seconds(), "keepalived-s")
		b.ReportMetric(h.wall.Seconds()/k.wall.Seconds(), "time-ratio")
		b.ReportMetric(h.cpu.Seconds()/k.cpu.Seconds(), "cpu-ratio")
		b.ReportMetric(p.cpu.Seconds()/k.cpu.Seconds(), "parse-cpu-ratio")
		b.ReportMetric(float64(h.peakKB)/1024, "havsd-peak-MB")
		b.ReportMetric(float64(k.peakKB)/1024, "keepalived-peak-MB")
		b.ReportMetric(float64(h.peakKB)/float64(k.peakKB), "peak-ratio")
		b.Logf("10,000 services x 4: havsd check %v (cpu %v, peak %d KB), keepalived -t %v (cpu %v, peak %d KB): time %.2fx, cpu %.2fx, peak %.2fx; hcl parse alone: cpu %v (%.2fx keepalived's), peak %d KB",
			h.wall.Round(time.Millisecond), h.cpu.Round(time.Millisecond), h.peakKB,
			k.wall.Round(time.Millisecond), k.cpu.Round(time.Millisecond), k.peakKB,
			h.wall.Seconds()/k.wall.Seconds(), h.cpu.Seconds()/k.cpu.Seconds(), float64(h.peakKB)/float64(k.peakKB),
			p.cpu.Round(time.Millisecond), p.cpu.Seconds()/k.cpu.Seconds(), p.peakKB)
	}
}

// TestCheckScaleSmoke is the benchmark's CI smoke: both programs accept the
// generated table of 200 services (so the benchmark compares the same
// work), and the figures are printed.
func TestCheckScaleSmoke(t *testing.T) {
	h, k, p := checkCosts(t, 200, 1)
	t.Logf("200 services x 4: havsd check %v peak %d KB, keepalived -t %v peak %d KB, hcl parse alone %v peak %d KB", h.wall, h.peakKB, k.wall, k.peakKB, p.wall, p.peakKB)
}
