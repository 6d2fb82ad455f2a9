package track

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/internal/clock"

	"github.com/havsd/havsd/internal/procstat"
	"github.com/havsd/havsd/test/poll"
)

// waitState reads states from ch until ok accepts one or the deadline passes.
func waitState(t *testing.T, ch <-chan State, what string, ok func(State) bool) State {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case st := <-ch:
			if ok(st) {
				return st
			}
		case <-deadline:
			t.Fatalf("no state: %s", what)
		}
	}
}

func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunScriptResults(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name   string
		body   string
		ok     bool
		detail string
	}{
		{"exit 0 passes", "exit 0", true, "exit 0 in"},
		{"exit 3 fails with output", "echo haproxy down; exit 3", false, "exit 3 in"},
		{"killed by a signal fails", "kill -9 $$", false, "killed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeScript(t, dir, strings.ReplaceAll(c.name, " ", "_"), c.body)
			r := RunScript(context.Background(), []string{p}, nil, 5*time.Second)
			if r.OK != c.ok || !strings.Contains(r.Detail, c.detail) {
				t.Errorf("RunScript = %+v, want ok=%v detail containing %q", r, c.ok, c.detail)
			}
		})
	}
	t.Run("missing program fails", func(t *testing.T) {
		r := RunScript(context.Background(), []string{filepath.Join(dir, "nope")}, nil, time.Second)
		if r.OK || !strings.Contains(r.Detail, "cannot start") {
			t.Errorf("RunScript = %+v", r)
		}
	})
}

// A script that times out is killed with its whole process group: a
// grandchild it left behind must die too.
func TestRunScriptTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	p := writeScript(t, dir, "slow", fmt.Sprintf("sleep 60 & echo $! > %s; wait", pidFile))
	start := time.Now()
	r := RunScript(context.Background(), []string{p}, nil, 300*time.Millisecond)
	took := time.Since(start)
	if r.OK || !strings.Contains(r.Detail, "timed out after 300ms") {
		t.Fatalf("RunScript = %+v, want a timeout", r)
	}
	if took > 5*time.Second {
		t.Errorf("RunScript took %s with a 300ms timeout", took)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if !poll.For(5*time.Second, func() bool { return !procstat.Alive(pid) }) {
		t.Fatalf("the script's child %d survived the timeout", pid)
	}
}

// runScript never starts a run while one is going: with an interval far
// shorter than the run, runs do not overlap.
func TestScriptOneRunAtATime(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "running")
	overlap := filepath.Join(dir, "overlap")
	p := writeScript(t, dir, "excl", fmt.Sprintf("[ -e %[1]s ] && touch %[2]s; touch %[1]s; sleep 0.2; rm -f %[1]s", lock, overlap))
	ch := make(chan State, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		runScript(ctx, Script{Name: "excl", Argv: []string{p}, Interval: 10 * time.Millisecond, Timeout: time.Second, Rise: 1, Fall: 1}, clock.Real{}, slog.Default(), func(s State) { ch <- s })
		close(done)
	}()
	for range 4 {
		waitState(t, ch, "a run", func(State) bool { return true })
	}
	cancel()
	<-done
	if _, err := os.Stat(overlap); err == nil {
		t.Fatal("two runs of the script overlapped")
	}
}

// rise/fall through the runner: the script fails after fall failures and
// passes again after rise successes, reading its verdict from a file.
func TestScriptRiseFall(t *testing.T) {
	dir := t.TempDir()
	verdict := filepath.Join(dir, "verdict")
	os.WriteFile(verdict, []byte("0"), 0o644)
	p := writeScript(t, dir, "chk", fmt.Sprintf("exit $(cat %s)", verdict))
	ch := make(chan State, 64)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go runScript(ctx, Script{Name: "chk", Argv: []string{p}, Interval: 20 * time.Millisecond, Timeout: time.Second, Rise: 2, Fall: 3}, clock.Real{}, slog.Default(), func(s State) { ch <- s })
	waitState(t, ch, "first pass", func(s State) bool { return s.Known && s.OK })
	os.WriteFile(verdict, []byte("1"), 0o644)
	fails := 0
	waitState(t, ch, "failed after 3 failures", func(s State) bool {
		if strings.HasPrefix(s.Last, "exit 1") {
			fails++
		}
		if !s.OK && fails != 3 {
			t.Fatalf("failed after %d failures, want 3", fails)
		}
		return !s.OK
	})
	os.WriteFile(verdict, []byte("0"), 0o644)
	passes := 0
	waitState(t, ch, "OK after 2 passes", func(s State) bool {
		if strings.HasPrefix(s.Last, "exit 0") {
			passes++
		}
		return s.OK
	})
	if passes != 2 {
		t.Errorf("OK after %d passes, want 2", passes)
	}
}

// init_fail: the script is failed from the start (reported before its
// first run) and passes only after rise successes.
func TestScriptInitFail(t *testing.T) {
	dir := t.TempDir()
	p := writeScript(t, dir, "chk", "exit 0")
	ch := make(chan State, 64)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go runScript(ctx, Script{Name: "chk", Argv: []string{p}, Interval: 20 * time.Millisecond, Timeout: time.Second, Rise: 3, Fall: 1, InitFail: true}, clock.Real{}, slog.Default(), func(s State) { ch <- s })
	first := waitState(t, ch, "initial state", func(State) bool { return true })
	if !first.Known || first.OK || !strings.Contains(first.Last, "init_fail") {
		t.Fatalf("first state %+v, want known and failed by init_fail", first)
	}
	passes := 0
	waitState(t, ch, "OK after 3 passes", func(s State) bool {
		if strings.HasPrefix(s.Last, "exit 0") {
			passes++
		}
		return s.OK
	})
	if passes != 3 {
		t.Errorf("OK after %d passes, want 3 (rise)", passes)
	}
}

func TestFileTrackerFollowsWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "maint")
	ch := make(chan State, 16)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go runFile(ctx, File{Name: "maint", Path: path}, clock.Real{}, slog.Default(), func(s State) { ch <- s })
	waitState(t, ch, "absent file is 0", func(s State) bool { return s.Known && s.Value == 0 && s.OK })
	steps := []struct {
		write string
		value int
		ok    bool
	}{{"5\n", 5, true}, {"-3", -3, true}, {"oops", 0, false}, {"7", 7, true}}
	for _, s := range steps {
		start := time.Now()
		// Write and rename, as tools that update such files do.
		tmp := path + ".tmp"
		os.WriteFile(tmp, []byte(s.write), 0o644)
		os.Rename(tmp, path)
		st := waitState(t, ch, "value "+s.write, func(st State) bool { return st.Value == s.value && st.OK == s.ok })
		t.Logf("%q seen as %q after %s", s.write, st.Last, time.Since(start))
	}
	os.Remove(path)
	waitState(t, ch, "removed file is 0", func(s State) bool { return s.Value == 0 && s.OK })
}

// sleeper starts a copy of sleep under a unique name so that its comm is
// the test's own.
func sleeper(t *testing.T, name string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	dst := filepath.Join(t.TempDir(), name)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dst, "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func TestProcessTrackerSeesExitAtOnce(t *testing.T) {
	name := fmt.Sprintf("pa-trk-%d", os.Getpid()%100000)
	a, b := sleeper(t, name), sleeper(t, name)
	ch := make(chan State, 16)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// A scan far slower than the test: exits must come from the pidfds.
	go runProcesses(ctx, []Process{{Name: "p", Match: name, Quorum: 2}}, time.Hour, clock.Real{}, slog.Default(), func(s State) { ch <- s })
	waitState(t, ch, "2 processes", func(s State) bool { return s.Value == 2 && s.OK })
	start := time.Now()
	a.Process.Kill()
	st := waitState(t, ch, "quorum lost", func(s State) bool { return !s.OK })
	t.Logf("exit seen after %s (%s)", time.Since(start), st.Last)
	b.Process.Kill()
	waitState(t, ch, "0 processes", func(s State) bool { return s.Value == 0 })
}

func TestProcessTrackerFindsNewAndMatchesArgs(t *testing.T) {
	name := fmt.Sprintf("pa-trn-%d", os.Getpid()%100000)
	ch := make(chan State, 16)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dir := t.TempDir()
	go runProcesses(ctx, []Process{
		{Name: "comm", Match: name, Quorum: 1},
		{Name: "args", Match: filepath.Join(dir, name) + " 300", Args: true, Quorum: 1},
		{Name: "other-args", Match: filepath.Join(dir, name) + " 301", Args: true, Quorum: 1},
	}, 50*time.Millisecond, clock.Real{}, slog.Default(), func(s State) { ch <- s })
	waitState(t, ch, "none yet", func(s State) bool { return s.Key.Name == "comm" && !s.OK })
	bin, _ := exec.LookPath("sleep")
	b, _ := os.ReadFile(bin)
	os.WriteFile(filepath.Join(dir, name), b, 0o755)
	cmd := exec.Command(filepath.Join(dir, name), "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitState(t, ch, "found by comm", func(s State) bool { return s.Key.Name == "comm" && s.OK })
	waitState(t, ch, "found by args", func(s State) bool { return s.Key.Name == "args" && s.OK })
}

// The delay of a track_process runs on the runner's clock: an exit counts
// only once the delay has passed on it.
func TestProcessTrackerDelayOnFakeClock(t *testing.T) {
	name := fmt.Sprintf("pa-trd-%d", os.Getpid()%100000)
	proc := sleeper(t, name)
	clk := clock.NewFake(time.Now())
	ch := make(chan State, 16)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go runProcesses(ctx, []Process{{Name: "p", Match: name, Quorum: 1, Delay: 5 * time.Second}}, time.Hour, clk, slog.Default(), func(s State) { ch <- s })
	waitState(t, ch, "1 process", func(s State) bool { return s.Value == 1 && s.OK })
	proc.Process.Kill()
	waitState(t, ch, "exit seen, still OK", func(s State) bool { return s.Value == 0 && s.OK })
	// Step the clock; the runner re-arms its delay timer right after
	// reporting the exit, so the failure can come later than 5s of
	// stepping, never earlier.
	var advanced time.Duration
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case s := <-ch:
			if s.OK {
				continue
			}
			if advanced < 5*time.Second {
				t.Fatalf("failed after %s on the clock, before the 5s delay", advanced)
			}
			return
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not failed after %s on the clock", advanced)
		}
		clk.Advance(100 * time.Millisecond)
		advanced += 100 * time.Millisecond
	}
}

// Many matching processes: each is watched through its own pidfd; killing
// them all brings the count to 0 without a scan.
func TestProcessTrackerManyProcesses(t *testing.T) {
	const n = 200
	name := fmt.Sprintf("pa-trm-%d", os.Getpid()%100000)
	first := sleeper(t, name)
	bin := first.Path
	procs := []*exec.Cmd{first}
	for len(procs) < n {
		cmd := exec.Command(bin, "300")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		procs = append(procs, cmd)
	}
	ch := make(chan State, 4*n)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go runProcesses(ctx, []Process{{Name: "p", Match: name, Quorum: n}}, time.Hour, clock.Real{}, slog.Default(), func(s State) { ch <- s })
	waitState(t, ch, fmt.Sprintf("%d processes", n), func(s State) bool { return s.Value == n && s.OK })
	start := time.Now()
	for _, p := range procs {
		p.Process.Kill()
	}
	waitState(t, ch, "0 processes", func(s State) bool { return s.Value == 0 })
	t.Logf("%d exits seen %s after the first kill", n, time.Since(start))
}
