package netlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/havsd/havsd/internal/procstat"
)

// Proc is a process started inside a node.
type Proc struct {
	Node, Name string
	PID        int

	rec  ProcRecord
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// ProcOptions are the optional settings of Start.
type ProcOptions struct {
	Env []string  // added to the environment
	Out io.Writer // stdout and stderr; nil discards
}

// Start runs argv inside a node (through `ip netns exec`, which execs, so
// the PID is the command's own) in a process group of its own, so that a
// Ctrl-C on the terminal reaches only the program that owns the topology.
func (t *Topology) Start(node, name string, argv []string, opt ProcOptions) (*Proc, error) {
	args := append([]string{"netns", "exec", t.NS(node)}, argv...)
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), opt.Env...)
	cmd.Stdout, cmd.Stderr = opt.Out, opt.Out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s in %s: %w", name, t.NS(node), err)
	}
	p := &Proc{Node: node, Name: name, PID: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	p.rec = ProcRecord{Node: node, Name: name, PID: p.PID, StartTime: startTime(p.PID)}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.mu.Lock()
	t.procs = append(t.procs, p)
	t.state.Procs = append(t.state.Procs, p.rec)
	t.mu.Unlock()
	if err := t.save(); err != nil {
		p.Stop(time.Second)
		return nil, err
	}
	return p, nil
}

// Forget drops an exited process from the state file.
func (t *Topology) Forget(p *Proc) error {
	t.mu.Lock()
	for i, q := range t.procs {
		if q == p {
			t.procs = append(t.procs[:i:i], t.procs[i+1:]...)
			break
		}
	}
	for i, r := range t.state.Procs {
		if r == p.rec {
			t.state.Procs = append(t.state.Procs[:i:i], t.state.Procs[i+1:]...)
			break
		}
	}
	t.mu.Unlock()
	return t.save()
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return errors.New("process already exited")
	}
	return p.cmd.Process.Signal(sig)
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process exits.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit or ctx to end.
func (p *Proc) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop sends SIGTERM, waits up to grace, then SIGKILL, and waits for exit.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stopRecorded stops a process known only from a state file, if the PID
// still names the same process.
func stopRecorded(r ProcRecord, grace time.Duration) {
	if r.PID <= 0 || startTime(r.PID) != r.StartTime || r.StartTime == 0 {
		return
	}
	_ = syscall.Kill(r.PID, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !procstat.Running(r.PID, r.StartTime) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(r.PID, syscall.SIGKILL)
}

// startTime returns the start time of pid (procstat.Stat.StartTime), or 0
// if the process is gone.
func startTime(pid int) uint64 {
	st, err := procstat.Read(pid)
	if err != nil {
		return 0
	}
	return st.StartTime
}

// nsPIDs lists the processes inside a named namespace.
func nsPIDs(ctx context.Context, ns string) []int {
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killPID SIGKILLs a process and waits briefly for it to disappear.
func killPID(pid int) {
	st := startTime(pid)
	if st == 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for i := 0; i < 100 && procstat.Running(pid, st); i++ {
		time.Sleep(10 * time.Millisecond)
	}
}

// CPUTime returns the user+system CPU time a process has used.
func CPUTime(pid int) (time.Duration, error) {
	st, err := procstat.Read(pid)
	return st.CPU(), err
}
