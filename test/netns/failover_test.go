package netns

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/internal/procstat"
	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/need"
	"github.com/havsd/havsd/test/poll"
)

// foRequire skips (or fails, in CI) a test that needs root, iproute2 and,
// when director is keepalived, the keepalived binary.
func foRequire(t *testing.T, director string) {
	t.Helper()
	need.Root(t, "builds network namespaces")
	need.Binaries(t, "ip")
	if director == "keepalived" {
		need.Binaries(t, "keepalived")
	}
}

var (
	foBuildOnce sync.Once
	foBinary    string
	foBuildErr  error
)

// foHavsd builds the havsd binary once per test binary.
func foHavsd(t *testing.T) string {
	t.Helper()
	foBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hv-lb-bin-")
		if err != nil {
			foBuildErr = err
			return
		}
		foBinary = filepath.Join(dir, "havsd")
		out, err := exec.Command("go", "build", "-o", foBinary, "github.com/havsd/havsd/cmd/havsd").CombinedOutput()
		if err != nil {
			foBuildErr = errors.New("building havsd: " + err.Error() + "\n" + string(out))
		}
	})
	if foBuildErr != nil {
		t.Fatal(foBuildErr)
	}
	return foBinary
}

// foLab is one `havsd lab` subprocess with its own prefix and state dir.
type foLab struct {
	prefix, stateDir, dir string
	cmd                   *exec.Cmd
	out                   *poll.Buffer
	done                  chan struct{}
	err                   error
}

// foStartLab starts `havsd lab` with args, in a process group of its own.
func foStartLab(t *testing.T, bin string, args ...string) *foLab {
	t.Helper()
	l := &foLab{prefix: netlab.RandomPrefix("hv-lb"), stateDir: t.TempDir(), dir: t.TempDir(), out: &poll.Buffer{}, done: make(chan struct{})}
	args = append([]string{"lab", "-prefix", l.prefix, "-state-dir", l.stateDir, "-dir", l.dir}, args...)
	l.cmd = exec.Command(bin, args...)
	l.cmd.Stdout, l.cmd.Stderr = l.out, l.out
	l.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { l.err = l.cmd.Wait(); close(l.done) }()
	t.Cleanup(func() {
		if l.cmd.ProcessState == nil {
			_ = l.cmd.Process.Kill()
			<-l.done
		}
		// Whatever happened, leave nothing behind for the next test.
		_ = netlab.Down(netlab.StateFile(l.stateDir, l.prefix))
		if l.err != nil && t.Failed() {
			t.Logf("output of the failed lab:\n%s", l.out.String())
		}
	})
	return l
}

// wait waits for the lab to exit.
func (l *foLab) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-l.done:
		return l.err
	case <-time.After(d):
		t.Fatalf("havsd lab still running after %s", d)
		return nil
	}
}

// waitFor waits until the output contains s.
func (l *foLab) waitFor(t *testing.T, s string, d time.Duration) {
	t.Helper()
	exited := func() bool {
		select {
		case <-l.done:
			return true
		default:
			return false
		}
	}
	printed := func() bool { return strings.Contains(l.out.String(), s) }
	switch ok := poll.For(d, func() bool { return printed() || exited() }); {
	case printed():
	case ok:
		t.Fatalf("havsd lab exited (%v) before printing %q", l.err, s)
	default:
		t.Fatalf("havsd lab did not print %q within %s", s, d)
	}
}

// state reads the lab's state file.
func (l *foLab) state(t *testing.T) netlab.State {
	t.Helper()
	st, err := netlab.ReadState(netlab.StateFile(l.stateDir, l.prefix))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// assertClean checks that no namespace, process or state file of the lab is
// left: deleting the namespaces also deleted every veth and bridge in them.
func (l *foLab) assertClean(t *testing.T, procs []netlab.ProcRecord) {
	t.Helper()
	left, err := netlab.Namespaces(context.Background(), l.prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("namespaces left behind: %v", left)
	}
	for _, p := range procs {
		if procstat.Alive(p.PID) {
			t.Errorf("process %s (pid %d) left running", p.Name, p.PID)
		}
	}
	if _, err := os.Stat(netlab.StateFile(l.stateDir, l.prefix)); err == nil {
		t.Errorf("state file left behind")
	}
	// The switch ends of the veths carry the node names; none may have
	// leaked into the host namespace.
	out, _ := exec.Command("ip", "-o", "link", "show").Output()
	for _, line := range strings.Split(string(out), "\n") {
		for _, n := range []string{"cli-eth0", "d1-eth0", "d2-eth0"} {
			if strings.Contains(line, " "+n+"@") && strings.Contains(line, l.prefix) {
				t.Errorf("veth left in the host: %s", line)
			}
		}
	}
}

// foDirector picks the director for lab tests: havsd when its daemon runs,
// keepalived otherwise (the lab's own machinery is what these tests check).
func foDirector() string {
	if d := os.Getenv("HAVSD_LAB_DIRECTOR"); d != "" {
		return d
	}
	return "havsd"
}

// TestLabCleansUp runs the lab to success, to failure and to Ctrl-C, and
// checks each time that nothing is left behind.
func TestLabCleansUp(t *testing.T) {
	director := foDirector()
	foRequire(t, director)
	bin := foHavsd(t)
	common := []string{"-director", director, "-n", "1", "-events", "crash", "-advert", "100ms"}

	t.Run("success", func(t *testing.T) {
		l := foStartLab(t, bin, common...)
		l.waitFor(t, "master:", time.Minute)
		procs := l.state(t).Procs
		if err := l.wait(t, 2*time.Minute); err != nil {
			t.Fatalf("havsd lab: %v", err)
		}
		out := l.out.String()
		for _, want := range []string{"configs and logs in", "client → http://", "crash: 1 repetitions", "client gap", "availability", "tearing the lab down"} {
			if !strings.Contains(out, want) {
				t.Errorf("lab output lacks %q", want)
			}
		}
		l.assertClean(t, procs)
	})

	t.Run("ctrl-c", func(t *testing.T) {
		l := foStartLab(t, bin, common...)
		l.waitFor(t, "drill:", time.Minute)
		procs := l.state(t).Procs
		if err := l.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if err := l.wait(t, time.Minute); err == nil {
			t.Errorf("havsd lab interrupted exited 0")
		}
		l.assertClean(t, procs)
	})

	t.Run("failure", func(t *testing.T) {
		// Both directors die behind the lab's back: the drill cannot find a
		// steady master and the lab must fail, and still clean up.
		l := foStartLab(t, bin, append(common, "-n", "3")...)
		l.waitFor(t, "#1 gap", 2*time.Minute)
		st := l.state(t)
		for _, p := range st.Procs {
			if strings.HasPrefix(p.Name, director+"-") {
				_ = syscall.Kill(p.PID, syscall.SIGKILL)
			}
		}
		if err := l.wait(t, 2*time.Minute); err == nil {
			t.Errorf("havsd lab exited 0 after its directors died")
		}
		l.assertClean(t, st.Procs)
	})
}

// TestLabDown checks `havsd lab down` after `havsd lab --keep`.
func TestLabDown(t *testing.T) {
	director := foDirector()
	foRequire(t, director)
	bin := foHavsd(t)
	l := foStartLab(t, bin, "-director", director, "-n", "1", "-events", "crash", "-keep")
	if err := l.wait(t, 2*time.Minute); err != nil {
		t.Fatalf("havsd lab --keep: %v", err)
	}
	st := l.state(t)
	if ns, _ := netlab.Namespaces(context.Background(), l.prefix); len(ns) == 0 {
		t.Fatalf("--keep left no namespaces")
	}
	out, err := exec.Command(bin, "lab", "down", "-prefix", l.prefix, "-state-dir", l.stateDir).CombinedOutput()
	if err != nil {
		t.Fatalf("havsd lab down: %v\n%s", err, out)
	}
	l.assertClean(t, st.Procs)
}
