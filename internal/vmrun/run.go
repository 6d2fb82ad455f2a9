package vmrun

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// File is a host file copied into the guest image.
type File struct {
	Host  string // path on the host
	Guest string // absolute path in the guest, e.g. /havsd/lvs.test
}

// Options describe one boot.
type Options struct {
	// Cache is the directory test/vm/setup.sh prepared; it holds vmlinuz and
	// base.cpio.
	Cache string
	// Files are copied into the image; executables keep their mode.
	Files []File
	// Command is the guest command line; its exit status is the result.
	Command []string
	// Env holds extra KEY=VALUE pairs for the command. HAVSD_VM=1, PATH and
	// HOME are always set.
	Env []string
	// Dir is the command's working directory in the guest; default /tmp.
	Dir string
	// MemMiB is the guest memory (default 1024); CPUs the vCPUs (default 1).
	MemMiB, CPUs int
	// Timeout bounds the whole boot (default 120 s).
	Timeout time.Duration
	// Console receives the guest's serial console, line by line, without
	// carriage returns. Nil discards it.
	Console io.Writer
	// QEMU is the emulator binary (default qemu-system-x86_64).
	QEMU string
}

// Result is what one boot produced.
type Result struct {
	// ExitCode is the command's exit status, or -1 when it never reported one.
	ExitCode int
	// Boot is the time from starting qemu to the guest starting the command.
	Boot time.Duration
	// GuestUptime is the guest kernel's uptime when the command started.
	GuestUptime time.Duration
	// Total is the time from starting qemu to its exit.
	Total time.Duration
	// Panicked reports a kernel panic seen on the console; TimedOut a boot
	// killed at the deadline.
	Panicked, TimedOut bool
}

// Console markers printed by /init. They are unlikely in any test output.
const (
	markStart = "@@havsd-vm:start uptime="
	markExit  = "@@havsd-vm:exit="
	markEnd   = "@@"
)

// ErrNoCache means setup.sh has not prepared the cache directory.
var ErrNoCache = errors.New("VM cache not prepared: run test/vm/setup.sh")

// Run boots the VM once, runs opts.Command and returns its result. The error
// is non-nil when the command did not report an exit status: qemu failed,
// the kernel panicked, or the deadline passed.
func Run(ctx context.Context, opts Options) (Result, error) {
	res := Result{ExitCode: -1}
	opts = withDefaults(opts)
	if len(opts.Command) == 0 {
		return res, errors.New("vm: no command")
	}
	kernel := filepath.Join(opts.Cache, "vmlinuz")
	base := filepath.Join(opts.Cache, "base.cpio")
	for _, p := range []string{kernel, base} {
		if _, err := os.Stat(p); err != nil {
			return res, fmt.Errorf("%w (%v)", ErrNoCache, err)
		}
	}
	tmp, err := os.MkdirTemp("", "havsd-vm-")
	if err != nil {
		return res, fmt.Errorf("creating temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	initrd := filepath.Join(tmp, "initrd")
	if err := buildInitrd(initrd, base, opts); err != nil {
		return res, err
	}

	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	// Once the command has reported, qemu only has to power off; one that
	// hangs there is killed after a grace period, keeping the result.
	qctx, qcancel := context.WithCancel(ctx)
	defer qcancel()
	cmd := exec.CommandContext(qctx, opts.QEMU, qemuArgs(opts, kernel, initrd)...)
	cmd.Stdin = nil
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return res, fmt.Errorf("qemu stdout: %w", err)
	}
	cmd.Stderr = cmd.Stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("starting %s: %w", opts.QEMU, err)
	}
	// Read the console to its end (qemu's exit) before Wait closes the pipe.
	scanConsole(out, opts.Console, start, &res, func() { time.AfterFunc(powerOffGrace, qcancel) })
	waitErr := cmd.Wait()
	res.Total = time.Since(start)
	if ctx.Err() != nil && res.ExitCode < 0 {
		res.TimedOut = true
	}
	switch {
	case res.TimedOut:
		return res, fmt.Errorf("vm: no exit status after %v (timeout)", opts.Timeout)
	case res.Panicked:
		return res, errors.New("vm: guest kernel panicked")
	case res.ExitCode < 0 && waitErr != nil:
		return res, fmt.Errorf("vm: qemu failed before the command finished: %w", waitErr)
	case res.ExitCode < 0:
		return res, errors.New("vm: guest stopped without reporting an exit status")
	}
	return res, nil
}

func withDefaults(o Options) Options {
	if o.MemMiB == 0 {
		o.MemMiB = 1024
	}
	if o.CPUs == 0 {
		o.CPUs = 1
	}
	if o.Timeout == 0 {
		o.Timeout = 120 * time.Second
	}
	if o.Dir == "" {
		o.Dir = "/tmp"
	}
	if o.QEMU == "" {
		o.QEMU = "qemu-system-x86_64"
	}
	if o.Console == nil {
		o.Console = io.Discard
	}
	return o
}

func qemuArgs(o Options, kernel, initrd string) []string {
	return []string{
		"-accel", "tcg", "-cpu", "max",
		"-m", strconv.Itoa(o.MemMiB), "-smp", strconv.Itoa(o.CPUs),
		"-nodefaults", "-no-user-config", "-display", "none",
		"-serial", "stdio", "-monitor", "none", "-nic", "none", "-no-reboot",
		"-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyS0 panic=-1 oops=panic quiet loglevel=3 random.trust_cpu=on no_timer_check",
	}
}

var reExit = regexp.MustCompile(regexp.QuoteMeta(markExit) + `(\d+)` + markEnd)

// powerOffGrace is how long qemu may take to exit after the exit marker.
const powerOffGrace = 10 * time.Second

// scanConsole copies the console to w and records markers in res; exited is
// called once when the exit marker appears.
func scanConsole(r io.Reader, w io.Writer, start time.Time, res *Result, exited func()) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if i := strings.Index(line, markStart); i >= 0 {
			res.Boot = time.Since(start)
			up := strings.TrimSuffix(line[i+len(markStart):], markEnd)
			if f, err := strconv.ParseFloat(strings.Fields(up + " 0")[0], 64); err == nil {
				res.GuestUptime = time.Duration(f * float64(time.Second))
			}
		}
		if m := reExit.FindStringSubmatch(line); m != nil && res.ExitCode < 0 {
			res.ExitCode, _ = strconv.Atoi(m[1])
			exited()
		}
		if strings.Contains(line, "Kernel panic - not syncing") && res.ExitCode < 0 {
			res.Panicked = true
		}
		fmt.Fprintln(w, line)
	}
	// Drain whatever is left so qemu never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, r)
}
