package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
)

// bigConfig is n TCP-checked NAT services of 4 real servers each. The
// namespace it runs in has only a loopback, so a check's connect fails at
// once and no packet leaves it.
func bigConfig(sock string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global {\n  router_id = \"big\"\n  control_socket = %q\n}\n", sock)
	for i := range n {
		fmt.Fprintf(&b, "virtual_service \"s%d\" {\n  protocol  = \"tcp\"\n  address   = \"10.%d.%d.%d:80\"\n  scheduler = \"wrr\"\n  forward   = \"nat\"\n  check \"tcp\" {\n    interval = \"10s\"\n    timeout  = \"1s\"\n  }\n", i, 200+i>>16, i>>8&255, i&255)
		for j := range 4 {
			fmt.Fprintf(&b, "  real_server \"10.%d.%d.%d:8080\" {\n    inhibit_on_failure = true\n  }\n", i>>8&255, i&255, 10+j)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// TestReload10kServices: a director with 10,000 services of 4 checked real
// servers reloaded 20 times (HAVSD_RELOAD10K_RELOADS) with its file
// unchanged keeps its RSS within 10 % of the RSS after start. On demand (HAVSD_RELOAD10K=1): it takes a
// few hundred MB and a minute or two of CPU. Without IPVS the daemon still
// loads, compiles and diffs the table on every reload; the kernel table
// itself is not programmed.
func TestReload10kServices(t *testing.T) {
	if os.Getenv("HAVSD_RELOAD10K") == "" {
		t.Skip("on demand: HAVSD_RELOAD10K=1 (10,000 services, a few hundred MB)")
	}
	services := 10000
	if v := os.Getenv("HAVSD_RELOAD10K_SERVICES"); v != "" {
		services, _ = strconv.Atoi(v)
	}
	reloads := 20
	if v := os.Getenv("HAVSD_RELOAD10K_RELOADS"); v != "" {
		reloads, _ = strconv.Atoi(v)
	}
	spec := netlab.Spec{Prefix: fmt.Sprintf("sk10k%d-", os.Getpid()%1000), Nodes: []netlab.Node{{Name: "d"}}, StateDir: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tp, err := netlab.Build(ctx, spec)
	if err != nil {
		t.Fatalf("building the namespace: %v", err)
	}
	dir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "havsd.log"))
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("havsd log (tail):\n%s", b)
		}
		if err := tp.Close(); err != nil {
			t.Errorf("tearing down: %v", err)
		}
	})
	sock, file := filepath.Join(dir, "big.sock"), filepath.Join(dir, "big.hcl")
	if err := os.WriteFile(file, []byte(bigConfig(sock, services)), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "havsd.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	proc, err := tp.Start("d", "havsd", []string{havsd, "run", "-f", file}, netlab.ProcOptions{Out: log})
	if err != nil {
		t.Fatal(err)
	}
	cli := func(timeout time.Duration, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", tp.NS("d"), havsd}, args...)...).CombinedOutput()
		return string(out), err
	}
	type sample struct {
		RSS         float64 `json:"rss_bytes"`
		HeapInUse   float64 `json:"heap_inuse_bytes"`
		Mapped      float64 `json:"runtime_mapped_bytes"`
		HeapObjects float64 `json:"heap_objects_bytes"`
		GCs         float64 `json:"gc_cycles"`
		Goroutines  float64 `json:"goroutines"`
		FDs         float64 `json:"open_fds"`
		reloads     int
		at          time.Time
	}
	var samples []sample
	read := func(what string, reloads int) sample {
		t.Helper()
		out, err := cli(30*time.Second, "debug", "runtime", "-gc", "-s", sock)
		if err != nil {
			t.Fatalf("%s: havsd debug runtime: %v\n%s", what, err, out)
		}
		var s sample
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%s: %v: %s", what, err, out)
		}
		t.Logf("%-24s rss %6.1f MB  heap in use %6.1f MB  runtime mapped %6.1f MB  goroutines %5.0f  fds %3.0f",
			what, s.RSS/(1<<20), s.HeapInUse/(1<<20), s.Mapped/(1<<20), s.Goroutines, s.FDs)
		// The RSS split: anonymous (heap, stacks, the runtime's own) and
		// file-backed (the binary's pages), from the kernel's view.
		anon, fileRSS := rssSplit(proc.PID)
		t.Logf("%-24s rss anon %6.1f MB  rss file %6.1f MB  heap objects %6.1f MB  gc cycles %.0f",
			"", anon/(1<<20), fileRSS/(1<<20), s.HeapObjects/(1<<20), s.GCs)
		s.reloads, s.at = reloads, time.Now()
		samples = append(samples, s)
		return s
	}
	// HAVSD_RELOAD10K_PROFILE=DIR keeps heap profiles at the start and the
	// end (go tool pprof -base DIR/start.pb.gz DIR/end.pb.gz).
	profile := func(name string) {
		pdir := os.Getenv("HAVSD_RELOAD10K_PROFILE")
		if pdir == "" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ip", "netns", "exec", tp.NS("d"), havsd, "debug", "pprof", "-gc", "-s", sock, "heap").Output()
		if err != nil {
			t.Fatalf("heap profile: %v", err)
		}
		if err := os.WriteFile(filepath.Join(pdir, name+".pb.gz"), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 3*time.Minute, "havsd answering on its control socket", func() bool {
		_, err := cli(10*time.Second, "status", "-s", sock, "--json")
		return err == nil
	})
	// The start: the checks have all run once (10 s interval) and the
	// first load's garbage is gone.
	time.Sleep(15 * time.Second) // settling, not synchronisation: there is no event for "steady"
	start := read("after start", 0)
	profile("start")
	var last sample
	for i := 1; i <= reloads; i++ {
		begin := time.Now()
		if out, err := cli(3*time.Minute, "reload", "-s", sock); err != nil {
			t.Fatalf("reload %d: %v\n%s", i, err, out)
		}
		if i == 1 || i%5 == 0 {
			last = read(fmt.Sprintf("reload %d (%s)", i, time.Since(begin).Round(time.Millisecond)), i)
		}
	}
	time.Sleep(15 * time.Second) // the same settling as before the start sample
	last = read("settled after the last", reloads)
	profile("end")
	// The table the soak prints, over these samples: the change per 1000
	// reloads is the least-squares slope over the samples taken right after
	// a reload (each reload returns its garbage to the kernel); the settled
	// samples include the checks' churn since.
	minutes := last.at.Sub(start.at).Minutes()
	t.Logf("%d reloads in %.1f min (%.1f per minute)", reloads, minutes, float64(reloads)/minutes)
	t.Logf("%-11s %12s %14s %15s %12s %14s", "10k", "after start", "after reload 1", fmt.Sprintf("after reload %d", reloads), "settled end", "slope/1000rl")
	for _, m := range []struct {
		name string
		get  func(sample) float64
		unit float64
	}{
		{"RSS MB", func(s sample) float64 { return s.RSS }, 1 << 20},
		{"heap MB", func(s sample) float64 { return s.HeapInUse }, 1 << 20},
		{"mapped MB", func(s sample) float64 { return s.Mapped }, 1 << 20},
		{"goroutines", func(s sample) float64 { return s.Goroutines }, 1},
		{"open fds", func(s sample) float64 { return s.FDs }, 1},
	} {
		var x, y []float64
		for _, s := range samples[1 : len(samples)-1] {
			x, y = append(x, float64(s.reloads)/1000), append(y, m.get(s)/m.unit)
		}
		perK, _ := fitLine(x, y)
		t.Logf("%-11s %12.1f %14.1f %15.1f %12.1f %14.1f", m.name, m.get(start)/m.unit, m.get(samples[1])/m.unit,
			m.get(samples[len(samples)-2])/m.unit, m.get(last)/m.unit, perK)
	}
	if growth := last.RSS/start.RSS - 1; growth > 0.10 {
		t.Errorf("RSS after %d unchanged reloads is %.1f MB, %.0f%% above the %.1f MB after start: want within 10%%",
			reloads, last.RSS/(1<<20), 100*growth, start.RSS/(1<<20))
	}
}

// rssSplit returns a process's anonymous and file-backed resident memory
// in bytes (RssAnon and RssFile of /proc/PID/status; 0 when unreadable).
func rssSplit(pid int) (anon, file float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "RssAnon:":
			anon = kb * 1024
		case "RssFile:":
			file = kb * 1024
		}
	}
	return anon, file
}
