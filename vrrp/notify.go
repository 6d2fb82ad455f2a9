package vrrp

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"time"
)

type notifyJob struct {
	argv []string
	env  []string
}

// notifier runs notify commands one at a time, in order, off the state
// machine's goroutine; each is bounded by a timeout.
type notifier struct {
	log     *slog.Logger
	timeout time.Duration
	jobs    chan notifyJob
	done    chan struct{}
}

func newNotifier(log *slog.Logger, timeout time.Duration) *notifier {
	return &notifier{log: log, timeout: timeout, jobs: make(chan notifyJob, 64), done: make(chan struct{})}
}

// enqueue schedules argv (no shell) without ever blocking; empty argv is a no-op.
func (n *notifier) enqueue(argv, env []string) {
	if len(argv) == 0 {
		return
	}
	select {
	case n.jobs <- notifyJob{argv: argv, env: env}:
	default:
		n.log.Error("notify queue full, command skipped", "argv", argv)
	}
}

func (n *notifier) run() {
	defer close(n.done)
	for j := range n.jobs {
		ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
		cmd := exec.CommandContext(ctx, j.argv[0], j.argv[1:]...)
		cmd.Env = append(os.Environ(), j.env...)
		cmd.WaitDelay = time.Second
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			n.log.Warn("notify command failed", "argv", j.argv, "err", err, "output", string(out))
		}
	}
}

// close waits for queued commands (each bounded by the timeout).
func (n *notifier) close() {
	close(n.jobs)
	<-n.done
}
