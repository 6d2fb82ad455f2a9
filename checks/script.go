package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxScriptOutput bounds the output of a script kept for the log.
const maxScriptOutput = 1024

// scriptChecker runs argv without a shell in its own process group; exit
// status 0 means up. On timeout the whole process group is killed, so
// children the script started die with it.
//
// Environment: the director's own, plus HAVSD_RS_ADDR and HAVSD_RS_PORT (the
// target). keepalived's MISC_CHECK passes no such variables; scripts written
// for it take the address as an argument, which argv supports.
type scriptChecker struct {
	spec Spec
	argv []string
	env  []string
}

func newScriptChecker(spec Spec) (*scriptChecker, error) {
	if spec.Script == nil || len(spec.Script.Argv) == 0 || spec.Script.Argv[0] == "" {
		return nil, errors.New("building script check: empty argv")
	}
	c := &scriptChecker{spec: spec, argv: append([]string(nil), spec.Script.Argv...)}
	if spec.Target.IsValid() {
		c.env = []string{
			"HAVSD_RS_ADDR=" + spec.Target.Addr().String(),
			"HAVSD_RS_PORT=" + strconv.Itoa(int(spec.Target.Port())),
		}
	}
	return c, nil
}

func (c *scriptChecker) Check(ctx context.Context) error {
	_, _, err := c.CheckWeight(ctx)
	return err
}

// CheckWeight runs the script once. With Dynamic (keepalived's
// misc_dynamic), exit status 2-255 passes and asks for weight status − 2,
// 0 passes at the configured weight and 1 fails; without it, any status
// but 0 fails.
func (c *scriptChecker) CheckWeight(ctx context.Context) (int, bool, error) {
	ctx, cancel := withTimeout(ctx, c.spec.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Negative pid: the process group the script leads.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A grandchild holding the output pipe must not keep Wait blocked.
	cmd.WaitDelay = 100 * time.Millisecond
	var out capBuffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if ctx.Err() != nil && err != nil {
		// The leader may have exited before the deadline while its group
		// lives on; kill the group again, it costs nothing if it is gone.
		if cmd.Process != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		return 0, false, timeoutf("script %s: timeout after %s, process group killed%s", c.argv[0], c.spec.Timeout, out.suffix())
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if code := ee.ExitCode(); c.spec.Script.Dynamic && code >= 2 && code <= 255 {
				return code - 2, true, nil
			}
			return 0, false, fmt.Errorf("script %s: %s%s", c.argv[0], ee.ProcessState, out.suffix())
		}
		return 0, false, fmt.Errorf("script %s: %w", c.argv[0], err)
	}
	return 0, false, nil
}

// capBuffer keeps the first maxScriptOutput bytes written and counts the rest.
type capBuffer struct {
	buf     bytes.Buffer
	dropped int
}

func (b *capBuffer) Write(p []byte) (int, error) {
	room := maxScriptOutput - b.buf.Len()
	if room >= len(p) {
		return b.buf.Write(p)
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

// suffix renders the output for an error message: ": output: ..." or "".
func (b *capBuffer) suffix() string {
	s := strings.TrimSpace(b.buf.String())
	if s == "" {
		return ""
	}
	if b.dropped > 0 {
		s += fmt.Sprintf(" [%d more bytes]", b.dropped)
	}
	return ": output: " + strconv.Quote(s)
}
