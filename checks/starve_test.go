//go:build linux

package checks

// The starved-checker test: the checker runs in a child process (this test
// binary re-executed) so that it can be paused with SIGSTOP, or pinned to
// one CPU beside busy loops, while the parent serves the real servers at
// full speed. The checker must not declare a healthy server down, must
// retry the checks a pause caught in flight, and must still detect servers
// that really stop within interval x (retry + 1) + timeout (plus the time
// it was paused).
//
//	go test -count=1 -v -run TestStarvedChecker ./checks [-starve.n 500]

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const starveEnv = "HAVSD_CHECKS_STARVE" // child role: "checker" or "spin"

var (
	starveN     = flag.Int("starve.n", 500, "servers in TestStarvedChecker")
	starveDelay = flag.Duration("starve.delay", 300*time.Millisecond, "servers' response time, so that checks are in flight when the checker pauses")
)

// starveSpec is the check of every server: keepalived's delay_loop 1,
// connect_timeout 1, retry 1, delay_before_retry 1.
func starveSpec(ap netip.AddrPort) Spec {
	return Spec{Kind: KindHTTP, Target: ap, Interval: time.Second, Timeout: time.Second,
		Retry: 2, DelayBeforeRetry: time.Second, Warmup: time.Second, HTTP: &HTTPSpec{Path: "/"}}
}

// starveChild runs a child role.
func starveChild(role string) int {
	if cpu, err := strconv.Atoi(os.Getenv("HAVSD_CHECKS_PIN")); err == nil {
		if err := pinThreads(cpu); err != nil {
			fmt.Fprintln(os.Stderr, "pinning:", err)
			return 1
		}
	}
	switch role {
	case "checker":
		return starvedChecker()
	case "spin":
		n, _ := strconv.Atoi(os.Getenv("HAVSD_CHECKS_SPIN"))
		runtime.GOMAXPROCS(n)
		for range n {
			go func() {
				for x := 0; ; x++ { // busy loop, preempted by the runtime
				}
			}()
		}
		io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
		return 0
	}
	return 2
}

// pinThreads binds every thread of this process to cpu; threads created
// later inherit it.
func pinThreads(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("thread %d: %w", tid, err)
		}
	}
	return nil
}

// starvedChecker reads server addresses from stdin up to "GO", checks them
// with starveSpec, prints "DOWN id" and "UP id" as transitions come, and
// answers "STATS" with its counters.
func starvedChecker() int {
	in := bufio.NewScanner(os.Stdin)
	targets := map[ID][]Spec{}
	for in.Scan() && in.Text() != "GO" {
		ap, err := netip.ParseAddrPort(in.Text())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		targets[ID(ap.String())] = []Spec{starveSpec(ap)}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := NewScheduler(Options{Logger: log.With("process", "checker child")})
	s.Set(targets)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", a...)
		out.Flush()
	}
	go s.Run(ctx)
	go func() {
		for tr := range s.Transitions() {
			say("%s %s %s", upDown(tr.Up), tr.ID, tr.Reason)
		}
	}()
	for in.Scan() {
		if in.Text() == "STATS" {
			st := s.Stats()
			say("STATS %d %d %d %d %d %d %d", st.Checks, st.Failures, st.Stalls, st.StallRetries, st.StartLag, st.InFlight, st.InFlightLimit)
		}
	}
	return 0
}

// starveHarness is the parent's view of a checker child.
type starveHarness struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	stats chan Stats

	mu    sync.Mutex
	downs map[ID]time.Time // first down seen, by the parent's clock
	ups   int
}

func startStarvedChecker(t *testing.T, addrs []string, env ...string) *starveHarness {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, starveEnv+"=checker")...)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the checker: %v", err)
	}
	h := &starveHarness{t: t, cmd: cmd, stdin: stdin, stats: make(chan Stats, 1), downs: map[ID]time.Time{}}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		stdin.Close()
		cmd.Process.Kill() // by PID: the child this test started
		cmd.Wait()
	})
	go h.read(stdout)
	w := bufio.NewWriter(stdin)
	for _, a := range addrs {
		fmt.Fprintln(w, a)
	}
	fmt.Fprintln(w, "GO")
	if err := w.Flush(); err != nil {
		t.Fatalf("configuring the checker: %v", err)
	}
	return h
}

func (h *starveHarness) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "STATS":
			var st Stats
			var lag int64
			fmt.Sscan(strings.Join(f[1:], " "), &st.Checks, &st.Failures, &st.Stalls, &st.StallRetries, &lag, &st.InFlight, &st.InFlightLimit)
			st.StartLag = time.Duration(lag)
			h.stats <- st
		case "down":
			h.mu.Lock()
			if _, ok := h.downs[ID(f[1])]; !ok {
				h.downs[ID(f[1])] = time.Now()
			}
			h.mu.Unlock()
		case "up":
			h.mu.Lock()
			h.ups++
			h.mu.Unlock()
		}
	}
}

// statsNow asks the child for its counters.
func (h *starveHarness) statsNow() Stats {
	h.t.Helper()
	fmt.Fprintln(h.stdin, "STATS")
	select {
	case st := <-h.stats:
		return st
	case <-time.After(10 * time.Second):
		h.t.Fatal("checker child did not answer STATS")
		return Stats{}
	}
}

// waitChecks polls until the child has run n more checks than from.
func (h *starveHarness) waitChecks(from uint64, n int, limit time.Duration) Stats {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st := h.statsNow()
		if st.Checks >= from+uint64(n) {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("only %d of %d checks within %s", st.Checks-from, n, limit)
		}
		time.Sleep(100 * time.Millisecond) // polling with a deadline
	}
}

// pause stops the child for d.
func (h *starveHarness) pause(d time.Duration) {
	h.t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		h.t.Fatalf("SIGSTOP: %v", err)
	}
	time.Sleep(d) // the load itself: the checker stays stopped this long
	if err := h.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		h.t.Fatalf("SIGCONT: %v", err)
	}
}

func (h *starveHarness) downSet() map[ID]time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[ID]time.Time, len(h.downs))
	for id, at := range h.downs {
		out[id] = at
	}
	return out
}

func TestStarvedChecker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 500 servers and a checker process for about 15 s per case")
	}
	const pause = 2 * time.Second
	n := *starveN
	tests := []struct {
		name string
		// env pins the checker; load starves it while the servers run
		// (and while the stopped ones are detected); paused is the time
		// the checker is stopped during detection.
		pin    bool
		load   func(h *starveHarness)
		paused time.Duration
	}{
		{name: "SIGSTOP 2s", load: func(h *starveHarness) { h.pause(pause) }, paused: pause},
		{name: "one CPU shared with 3 busy loops", pin: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			if tc.pin && runtime.NumCPU() < 2 {
				t.Skip("needs 2 CPUs: the servers run on the one the checker is not pinned to")
			}
			raiseNoFile(uint64(4*n + 1000))
			st := &scaleState{conns: map[string]map[net.Conn]bool{}, stopped: map[string]bool{}, lns: map[string]net.Listener{}}
			srv := &http.Server{ConnState: st.track, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(*starveDelay)
				w.Header().Set("Content-Length", "3")
				io.WriteString(w, "ok\n")
			})}
			addrs, err := st.listen(srv, n, false)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			var env []string
			if tc.pin {
				env = append(env, "HAVSD_CHECKS_PIN=0")
				spin := exec.Command(os.Args[0], "-test.run=^$")
				spin.Env = append(os.Environ(), starveEnv+"=spin", "HAVSD_CHECKS_PIN=0", "HAVSD_CHECKS_SPIN=3")
				spinIn, _ := spin.StdinPipe()
				if err := spin.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { spinIn.Close(); spin.Process.Kill(); spin.Wait() })
			}
			h := startStarvedChecker(t, addrs, env...)
			sp := starveSpec(netip.AddrPort{}).WithDefaults()
			bound := sp.Interval*time.Duration(sp.failuresToDown()) + sp.Timeout // interval x (keepalived retry + 1) + timeout

			// Every server checked at least twice, then the load.
			s0 := h.waitChecks(0, 2*n, 20*time.Second)
			if tc.load != nil {
				tc.load(h)
			}
			s1 := h.waitChecks(s0.Checks, 3*n, 30*time.Second)
			if d := h.downSet(); len(d) > 0 {
				t.Errorf("%d healthy servers declared down under load", len(d))
			}
			t.Logf("under load: %d checks, %d failures, %d stalls, %d stalled checks retried, start lag %s, %d in flight",
				s1.Checks-s0.Checks, s1.Failures-s0.Failures, s1.Stalls-s0.Stalls, s1.StallRetries-s0.StallRetries, s1.StartLag, s1.InFlight)
			// Every check in flight across the pause either read the answer
			// that arrived meanwhile or timed out late and was retried:
			// none failed.
			if f := s1.Failures - s0.Failures; f > 0 {
				t.Errorf("%d checks of healthy servers failed under load", f)
			}
			if tc.paused > 0 && s1.Stalls == s0.Stalls {
				t.Errorf("a %s pause went unnoticed: no stall counted", tc.paused)
			}

			// A tenth of the servers stop (refuse connections) under the
			// same load: each is detected within the bound (plus the pause).
			k := n / 10
			stopAt := time.Now()
			st.stop(addrs[:k])
			if tc.load != nil {
				tc.load(h)
			}
			limit := bound + tc.paused
			deadline := stopAt.Add(limit + 2*time.Second) // wait a little past it, to report how far
			var downs map[ID]time.Time
			for {
				downs = h.downSet()
				if len(downs) >= k || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond) // polling with a deadline
			}
			var worst time.Duration
			for _, a := range addrs[:k] {
				at, ok := downs[ID(a)]
				if !ok {
					t.Errorf("%s stopped but not declared down within %s", a, deadline.Sub(stopAt))
					continue
				}
				worst = max(worst, at.Sub(stopAt))
			}
			for _, a := range addrs[k:] {
				if _, ok := downs[ID(a)]; ok {
					t.Errorf("%s declared down but still serving", a)
				}
			}
			t.Logf("stopped %d: slowest detection %s, bound %s (interval x (retry+1) + timeout %s, paused %s)",
				k, worst.Round(time.Millisecond), limit, bound, tc.paused)
			if worst > limit {
				t.Errorf("slowest detection %s > bound %s", worst, limit)
			}
		})
	}
}
