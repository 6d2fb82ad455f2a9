//go:build linux

package checks

// Scale benchmark: N real servers, each with an HTTP check at a 1 s interval
// against loopback listeners served by a child process (this test binary
// re-executed), so getrusage of this process counts the checks only.
//
// Smoke size (CI):  go test -run XXX -bench 'Scale$' -benchtime 1x ./checks
// Full size:        go test -run XXX -bench 'Scale$' -benchtime 1x ./checks \
//                       -scale.n 10000 -scale.d 15s
// Keep-alive:       add -scale.keepalive; TCP connect checks: -scale.kind tcp;
// in-flight bound:  -scale.maxinflight N (-1: none).
// The size and duration can also come from the environment: HAVSD_SCALE_N,
// HAVSD_SCALE_D. It prints checks/s against the target rate, CPU seconds
// per 1000 checks (getrusage) and the server process's share, peak RSS
// (VmHWM), false downs, and the detection latency spread after a tenth of
// the servers stop at once, with the load average before and after.
// BenchmarkCheckFloor and BenchmarkSchedulerOverhead split the cost into
// one check alone (and the bare system calls) and the scheduler alone.

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/havsd/havsd/internal/procstat"
)

const scaleServerEnv = "HAVSD_SCALE_SERVER"

var (
	scaleN         = flag.Int("scale.n", envInt("HAVSD_SCALE_N", 500), "servers in BenchmarkScale")
	scaleD         = flag.Duration("scale.d", envDuration("HAVSD_SCALE_D", 5*time.Second), "measured steady-state duration")
	scaleStop      = flag.Float64("scale.stop", 0.1, "fraction of servers stopped at once")
	scaleKeepAlive = flag.Bool("scale.keepalive", false, "reuse connections between checks")
	scaleInFlight  = flag.Int("scale.maxinflight", 0, "Options.MaxInFlight (0: the default, -1: no bound)")
	scaleKind      = flag.String("scale.kind", "http", "check kind: http or tcp")
)

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return def
}

func envDuration(k string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(k)); err == nil {
		return v
	}
	return def
}

// raiseNoFile lifts RLIMIT_NOFILE as far as allowed.
func raiseNoFile(want uint64) uint64 {
	var r syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	if r.Max < want {
		try := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &try) == nil {
			return want
		}
	}
	r.Cur = r.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	return r.Cur
}

type scaleChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	addrs []netip.AddrPort
}

func startScaleChild(b testing.TB, n int) *scaleChild {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", scaleServerEnv, n))
	if *scaleKeepAlive {
		cmd.Env = append(cmd.Env, "HAVSD_SCALE_SHARED=1")
	}
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting server process: %v", err)
	}
	c := &scaleChild{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() // by PID: the child we started
			<-done
		}
	})
	for c.out.Scan() {
		line := c.out.Text()
		if line == "READY" {
			return c
		}
		ap, err := netip.ParseAddrPort(line)
		if err != nil {
			b.Fatalf("server process said %q", line)
		}
		c.addrs = append(c.addrs, ap)
	}
	b.Fatalf("server process ended before READY")
	return nil
}

// requests returns the number of requests the servers have answered.
func (c *scaleChild) requests(t testing.TB) int64 {
	t.Helper()
	fmt.Fprintln(c.stdin, "COUNT")
	var n int64
	if !c.out.Scan() {
		t.Fatal("server process gone")
	}
	if _, err := fmt.Sscanf(c.out.Text(), "COUNT %d", &n); err != nil {
		t.Fatalf("server process said %q to COUNT", c.out.Text())
	}
	return n
}

// cpuTime returns user+system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU returns user+system CPU time of process pid, for the server
// process.
func procCPU(pid int) time.Duration {
	st, _ := procstat.Read(pid)
	return st.CPU()
}

// procStatusKB reads a "Vm..." field of /proc/self/status in kB.
func procStatusKB(field string) int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return -1
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

func BenchmarkScale(b *testing.B) {
	n, d := *scaleN, *scaleD
	raiseNoFile(uint64(2*n + 1000))
	b.Logf("load before: %s; %d CPUs", loadAvg(), runtime.NumCPU())
	child := startScaleChild(b, n)

	// Transitions are collected by one consumer.
	var mu sync.Mutex
	downs := map[ID]time.Time{}
	var errMu sync.Mutex
	errSamples := map[string]int{}
	failedIDs := map[ID]int{}
	var latMax time.Duration
	s := NewScheduler(Options{MaxInFlight: *scaleInFlight, OnResult: func(id ID, _ Kind, l time.Duration, err error) {
		errMu.Lock()
		latMax = max(latMax, l)
		errMu.Unlock()
		if err != nil {
			// Strip the address so that errors group by kind.
			msg := err.Error()
			if i := strings.LastIndex(msg, ": "); i >= 0 {
				msg = msg[i+2:]
			}
			errMu.Lock()
			errSamples[msg]++
			failedIDs[id]++
			errMu.Unlock()
		}
	}})
	targets := make(map[ID][]Spec, n)
	ids := make([]ID, n)
	for i, ap := range child.addrs {
		ids[i] = ID(*scaleKind + " " + ap.String())
		sp := Spec{Kind: KindHTTP, Target: ap, Interval: time.Second, Timeout: time.Second,
			Warmup: time.Second, HTTP: &HTTPSpec{Path: "/", KeepAlive: *scaleKeepAlive}}
		if *scaleKind == "tcp" {
			sp.Kind, sp.HTTP = KindTCP, nil
		}
		targets[ids[i]] = []Spec{sp}
	}
	s.Set(targets)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case tr := <-s.Transitions():
				if !tr.Up {
					mu.Lock()
					downs[tr.ID] = time.Now()
					mu.Unlock()
				}
			}
		}
	})
	defer func() { cancel(); wg.Wait() }()

	b.ResetTimer()
	time.Sleep(2 * time.Second) // warm-up: every check has started once
	pid := child.cmd.Process.Pid
	c0, cpu0, srv0, t0 := s.Stats(), cpuTime(), procCPU(pid), time.Now()
	time.Sleep(d)
	c1, cpu1, srv1, t1 := s.Stats(), cpuTime(), procCPU(pid), time.Now()
	el := t1.Sub(t0)
	checks := float64(c1.Checks - c0.Checks)
	rate := checks / el.Seconds()
	cpuPerK := (cpu1 - cpu0).Seconds() / checks * 1000
	cores := (cpu1 - cpu0).Seconds() / el.Seconds()
	mu.Lock()
	falseDowns := len(downs)
	mu.Unlock()

	// Stop a fraction of the servers at once and time their detection,
	// for those that were up just before (an overloaded machine may have
	// marked some down already: they are counted apart).
	k := int(float64(n) * *scaleStop)
	status := s.Status()
	var watch []ID
	for _, id := range ids[:k] {
		if status[id].Up {
			watch = append(watch, id)
		}
	}
	mu.Lock()
	clear(downs)
	mu.Unlock()
	fmt.Fprintf(child.stdin, "STOP %d\n", k)
	if !child.out.Scan() {
		b.Fatal("server process gone")
	}
	var atNs, doneNs int64
	fmt.Sscanf(child.out.Text(), "STOPPED %d %d", &atNs, &doneNs)
	stopAt := time.Unix(0, atNs)
	deadline := time.Now().Add(10 * time.Second)
	var lat []time.Duration
	for time.Now().Before(deadline) {
		mu.Lock()
		lat = lat[:0]
		for _, id := range watch {
			if at, ok := downs[id]; ok {
				lat = append(lat, at.Sub(stopAt))
			}
		}
		mu.Unlock()
		if len(lat) == len(watch) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return -1
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(time.Millisecond)
	}
	hwm := procStatusKB("VmHWM")
	b.Logf("servers %d, %s checks, keep-alive %v, max in flight %d, measured %s",
		n, *scaleKind, *scaleKeepAlive, *scaleInFlight, el.Round(time.Millisecond))
	b.Logf("checks/s %.0f of target %d (%.1f%%); failures %d; false downs before the stop %d",
		rate, n, 100*rate/float64(n), c1.Failures-c0.Failures, falseDowns)
	b.Logf("CPU %.3f s per 1000 checks = %.2f cores (server process: %.2f cores); peak RSS %.1f MB; goroutines %d",
		cpuPerK, cores, (srv1-srv0).Seconds()/el.Seconds(), float64(hwm)/1024, runtime.NumGoroutine())
	b.Logf("stopped %d at once (%d of them up before; closing took %s): detected %d; latency min %s p50 %s p90 %s p99 %s max %s",
		k, len(watch), time.Duration(doneNs-atNs).Round(time.Millisecond), len(lat), pct(0), pct(0.5), pct(0.9), pct(0.99), pct(1))
	b.Logf("load after: %s", loadAvg())
	errMu.Lock()
	for msg, n := range errSamples {
		b.Logf("errors: %d x %s", n, msg)
	}
	b.Logf("targets that failed at least once: %d; slowest check %s", len(failedIDs), latMax)
	errMu.Unlock()
	b.ReportMetric(rate, "checks/s")
	b.ReportMetric(cpuPerK, "cpu-s/1k-checks")
	b.ReportMetric(float64(hwm)/1024, "peak-RSS-MB")
	b.ReportMetric(pct(1).Seconds(), "detect-max-s")
	if len(lat) < len(watch) {
		b.Errorf("only %d of %d stopped servers detected within 10 s", len(lat), len(watch))
	}
}

// BenchmarkCheckFloor runs HTTP checks one after another against one server
// of the server process and reports the CPU each costs this process: the
// floor the scheduler adds to.
//
//	go test -run XXX -bench CheckFloor ./checks [-scale.keepalive]
func BenchmarkCheckFloor(b *testing.B) {
	child := startScaleChild(b, 1)
	ap := child.addrs[0]
	b.Run("check", func(b *testing.B) {
		c, err := New(Spec{Kind: KindHTTP, Target: ap, Timeout: time.Second,
			HTTP: &HTTPSpec{KeepAlive: *scaleKeepAlive}})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		cpu0 := cpuTime()
		for b.Loop() {
			if err := c.Check(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N)*1e6, "cpu-us/check")
	})
	// The floor: the same exchange in bare blocking system calls.
	b.Run("raw-syscalls", func(b *testing.B) {
		req := []byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		buf := make([]byte, 4096)
		cpu0 := cpuTime()
		for b.Loop() {
			if err := rawHTTPCheck(ap, req, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N)*1e6, "cpu-us/check")
	})
}

// rawHTTPCheck is one HTTP check in bare system calls (socket, connect,
// write, read to EOF, close) issued with RawSyscall: the thread blocks in
// the kernel without telling the Go scheduler, so no runtime work (P
// hand-off, thread wake-ups) is counted. It is the floor a check costs.
func rawHTTPCheck(ap netip.AddrPort, req, buf []byte) error {
	raw := func(trap, a1, a2, a3 uintptr) (uintptr, error) {
		for {
			r, _, e := syscall.RawSyscall(trap, a1, a2, a3)
			switch e {
			case 0:
				return r, nil
			case syscall.EINTR: // the runtime's preemption signal
				continue
			}
			return r, e
		}
	}
	fd, err := raw(syscall.SYS_SOCKET, syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer raw(syscall.SYS_CLOSE, fd, 0, 0)
	sa := syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: ap.Addr().As4()}
	port := (*[2]byte)(unsafe.Pointer(&sa.Port)) // network byte order
	port[0], port[1] = byte(ap.Port()>>8), byte(ap.Port())
	if _, err := raw(syscall.SYS_CONNECT, fd, uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa)); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if _, err := raw(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&req[0])), uintptr(len(req))); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	for {
		n, err := raw(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}

// BenchmarkSchedulerOverhead runs -scale.n targets whose checker does
// nothing, at a 1 s interval for -scale.d, and reports the CPU the
// scheduler itself spends per check.
//
//	go test -run XXX -bench SchedulerOverhead -benchtime 1x ./checks -scale.n 10000
func BenchmarkSchedulerOverhead(b *testing.B) {
	n, d := *scaleN, *scaleD
	s := NewScheduler(Options{New: func(Spec) (Checker, error) {
		return CheckerFunc(func(context.Context) error { return nil }), nil
	}})
	targets := make(map[ID][]Spec, n)
	for i := range n {
		// A port each: identical checks would share one probe.
		targets[ID(fmt.Sprint("t", i))] = []Spec{{Kind: KindTCP, Target: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(1+i%65535)),
			Interval: time.Second, Timeout: time.Second, Warmup: time.Second}}
	}
	s.Set(targets)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	time.Sleep(2 * time.Second)
	c0, cpu0, t0 := s.Stats().Checks, cpuTime(), time.Now()
	time.Sleep(d)
	c1, cpu1, t1 := s.Stats().Checks, cpuTime(), time.Now()
	checks := float64(c1 - c0)
	b.ReportMetric(checks/t1.Sub(t0).Seconds(), "checks/s")
	b.ReportMetric((cpu1-cpu0).Seconds()/checks*1e6, "cpu-us/check")
	b.ReportMetric(float64(procStatusKB("VmHWM"))/1024, "peak-RSS-MB")
	b.Logf("goroutines %d, load %s", runtime.NumGoroutine(), loadAvg())
}
