package daemon

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHandoverToSlowBackup: a backup whose process runs late still takes
// over a planned handover before the master gives up on it. The backup's
// havsd is stopped for 40 ms of every 50 ms, as a loaded host delays it: it
// then often finds the master's next priority-0 advert queued beside its
// Skew_Time timer, and that advert must not push the takeover back (when it
// did, the master's handover ran out after its Master_Down_Interval and
// `havsd handover` failed with "no backup took over"). Each handover is
// followed by `havsd resume`, and the next starts as soon as d1 is master
// again. HAVSD_HANDOVER_N sets the number of handovers (default 8).
func TestHandoverToSlowBackup(t *testing.T) {
	n := 8
	if v := os.Getenv("HAVSD_HANDOVER_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("HAVSD_HANDOVER_N=%q: %v", v, err)
		}
	}
	// A prefix of its own (hvdNNNN-), as the soak takes: it is run
	// repeatedly beside other namespace tests.
	pairSeq.Store(int32(1000 + os.Getpid()%800))
	p := newPair(t, "100ms")
	eventually(t, 15*time.Second, "d2 backup", func() bool { return p.state("d2") == "backup" })
	stop := p.slowDown("d2", 40*time.Millisecond, 10*time.Millisecond)
	t.Cleanup(stop)
	var failed []string
	for i := range n {
		out, err := p.havsdCmd("d1", "handover", "-s", p.socket("d1"), "VI_1")
		if err != nil {
			failed = append(failed, strings.TrimSpace(out))
		} else {
			eventually(t, 15*time.Second, "d2 master after the handover", func() bool { return p.state("d2") == "master" })
		}
		if out, err := p.havsdCmd("d1", "resume", "-s", p.socket("d1"), "VI_1"); err != nil {
			t.Fatalf("handover %d: havsd resume: %v\n%s", i, err, out)
		}
		// The next handover follows at once: d2 may not have heard d1
		// preempt it yet, and its adverts sent meanwhile must not pass
		// for a successor's.
		p.waitMaster("d1")
	}
	stop()
	t.Logf("%d handovers to a backup stopped 40 ms of every 50 ms: %d failed", n, len(failed))
	if len(failed) > 0 {
		t.Errorf("%d of %d handovers found no backup taking over:\n%s", len(failed), n, strings.Join(failed, "\n"))
	}
}

// slowDown stops a director's havsd for off out of every off+on until the
// returned function is called (idempotent), which leaves it running.
func (p *pair) slowDown(node string, off, on time.Duration) (stop func()) {
	p.t.Helper()
	proc := p.procs[node]
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = proc.Signal(syscall.SIGCONT) }()
		for {
			_ = proc.Signal(syscall.SIGSTOP)
			select {
			case <-quit:
				return
			case <-time.After(off): // the duty cycle is the stimulus, not synchronisation
			}
			_ = proc.Signal(syscall.SIGCONT)
			select {
			case <-quit:
				return
			case <-time.After(on):
			}
		}
	}()
	stopped := false
	return func() {
		if !stopped {
			stopped = true
			close(quit)
			<-done
		}
	}
}
