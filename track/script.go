package track

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/havsd/havsd/internal/clock"
)

// ScriptResult is one run of a script.
type ScriptResult struct {
	OK     bool
	Detail string // "exit 0 in 3ms", "exit 1 in 2ms: <output>", "timed out after 1s"
}

// RunScript runs argv once as cred (nil: the daemon's user) in a process
// group of its own, and kills the whole group when timeout expires or ctx
// ends. Standard input is empty; output is kept (a little) for the detail.
func RunScript(ctx context.Context, argv []string, cred *Credential, timeout time.Duration) ScriptResult {
	if len(argv) == 0 {
		return ScriptResult{Detail: "empty command"}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cred != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: cred.UID, Gid: cred.GID, Groups: cred.Groups}
	}
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	out := &capped{max: 200}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error {
		// The negative pid is the process group: children die too.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A child that keeps the output pipe open must not hold Wait.
	cmd.WaitDelay = 100 * time.Millisecond
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start).Round(time.Millisecond)
	var ee *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return ScriptResult{Detail: fmt.Sprintf("timed out after %s, process group killed", timeout)}
	case ctx.Err() != nil:
		return ScriptResult{Detail: "stopped"}
	case err == nil:
		return ScriptResult{OK: true, Detail: fmt.Sprintf("exit 0 in %s", took)}
	case errors.As(err, &ee):
		d := fmt.Sprintf("%s in %s", strings.TrimPrefix(ee.ProcessState.String(), "exit status "), took)
		if ee.Exited() {
			d = fmt.Sprintf("exit %d in %s", ee.ExitCode(), took)
		}
		if o := strings.TrimSpace(out.String()); o != "" {
			d += ": " + o
		}
		return ScriptResult{Detail: d}
	}
	return ScriptResult{Detail: "cannot start: " + err.Error()}
}

// capped keeps the first max bytes written to it.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// runScript is a vrrp_script's loop: one run at a time, started every
// Interval (or as soon as a run that overran its interval ends), with
// rise/fall hysteresis. It reports each result through emit.
func runScript(ctx context.Context, s Script, clk clock.Clock, log *slog.Logger, emit func(State)) {
	var cred *Credential
	if s.User != "" {
		c, err := LookupUser(s.User)
		if err != nil {
			log.Error("vrrp_script cannot run", "tracker", s.Name, "err", err)
			emit(State{Key: Key{KindScript, s.Name}, Known: true, Last: err.Error(), At: clk.Now()})
			return
		}
		cred = &c
	}
	h := Hysteresis{Rise: s.Rise, Fall: s.Fall, Failed: s.InitFail}
	st := State{Key: Key{KindScript, s.Name}}
	if s.InitFail {
		// keepalived's init_fail: failed from the start, until rise
		// successes; the status says so before the first run.
		st.Known, st.Last, st.At = true, "init_fail: failed until it passes", clk.Now()
		emit(st)
	}
	t := clk.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		start := clk.Now()
		r := RunScript(ctx, s.Argv, cred, s.Timeout)
		if ctx.Err() != nil {
			return
		}
		now := clk.Now()
		changed := h.Observe(r.OK)
		if !st.Known {
			// The first result counts once towards rise/fall; the
			// script is OK until fall failures.
			changed = true
		}
		st.Known, st.OK, st.Last, st.At = true, !h.Failed, r.Detail, now
		if changed {
			st.Since = now
			if st.OK {
				log.Info("vrrp_script passing", "tracker", s.Name, "result", r.Detail)
			} else {
				log.Warn("vrrp_script failing", "tracker", s.Name, "result", r.Detail)
			}
		}
		emit(st)
		t.Reset(max(s.Interval-now.Sub(start), 0))
	}
}
