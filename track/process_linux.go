package track

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/havsd/havsd/internal/clock"
	"golang.org/x/sys/unix"
)

// How track_process watches processes: a scan of /proc (every
// ScanInterval) finds the matching ones, and each match is watched through a
// pidfd (pidfd_open(2)) that becomes readable the moment the process exits,
// so an exit is seen within microseconds, whatever the network namespace.
// keepalived uses the kernel's process-events connector instead, which
// exists only in the initial network namespace and needs a per-event
// /proc read as well; pidfds cost one descriptor per matched process and no
// work while nothing happens. A newly started process is found by the next
// scan.

// DefaultScanInterval is how often /proc is scanned for new processes.
const DefaultScanInterval = time.Second

// proc is one running process as the scan sees it.
type proc struct {
	pid  int
	comm string
	args string // command line, arguments joined by spaces
}

// matches reports whether p is one of spec's processes.
func (s Process) matches(p proc) bool {
	if !s.Args {
		return p.comm == s.Match
	}
	switch s.ParamMatch {
	case ParamPartial:
		return p.args == s.Match || strings.HasPrefix(p.args, s.Match+" ")
	case ParamInitial:
		return strings.HasPrefix(p.args, s.Match)
	}
	return p.args == s.Match
}

// scanProcs lists the processes in /proc; args are read only when needed.
func scanProcs(withArgs bool) ([]proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("scanning /proc: %w", err)
	}
	out := make([]proc, 0, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue // gone already
		}
		p := proc{pid: pid, comm: strings.TrimSuffix(string(comm), "\n")}
		if withArgs {
			cl, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err != nil {
				continue
			}
			p.args = string(bytes.ReplaceAll(bytes.TrimRight(cl, "\x00"), []byte{0}, []byte{' '}))
		}
		out = append(out, p)
	}
	return out, nil
}

// pidWatch waits for one process to exit.
type pidWatch struct{ f *os.File }

// watchPid reports pid on exits when the process exits. It fails with ESRCH
// when the process is already gone.
func watchPid(pid int, exits chan<- int, done <-chan struct{}) (*pidWatch, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	go func() {
		// A pidfd polls readable once the process has exited; Read
		// parks in the runtime's poller until then, or until Close.
		err := rc.Read(func(fd uintptr) bool {
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, _ := unix.Poll(pfd, 0)
			return n > 0
		})
		if err == nil {
			select {
			case exits <- pid:
			case <-done:
			}
		}
	}()
	return &pidWatch{f: f}, nil
}

func (w *pidWatch) stop() { w.f.Close() }

// procTracker is one track_process with its matched processes.
type procTracker struct {
	spec  Process
	state ProcessState
	pids  map[int]bool
	st    State
}

// runProcesses runs every track_process of a configuration over one scan.
func runProcesses(ctx context.Context, specs []Process, scan time.Duration, clk clock.Clock, log *slog.Logger, emit func(State)) {
	if scan <= 0 {
		scan = DefaultScanInterval
	}
	ts := make([]*procTracker, 0, len(specs))
	withArgs := false
	for _, s := range specs {
		ts = append(ts, &procTracker{spec: s, pids: map[int]bool{},
			state: ProcessState{Quorum: s.Quorum, QuorumMax: s.QuorumMax, Delay: s.Delay},
			st:    State{Key: Key{KindProcess, s.Name}}})
		withArgs = withArgs || s.Args
	}
	watched := map[int]*pidWatch{}
	exits := make(chan int, 64)
	defer func() {
		for _, w := range watched {
			w.stop()
		}
	}()
	report := func(t *procTracker, changed bool, now time.Time) {
		last := fmt.Sprintf("%d processes", t.state.Count)
		if t.st.Known && !changed && last == t.st.Last {
			return
		}
		if changed || !t.st.Known {
			t.st.Since = now
			if t.state.Failed {
				log.Warn("track_process failing", "tracker", t.spec.Name, "processes", t.state.Count, "quorum", t.spec.Quorum)
			} else {
				log.Info("track_process passing", "tracker", t.spec.Name, "processes", t.state.Count)
			}
		}
		t.st.Known, t.st.OK, t.st.Value, t.st.Last, t.st.At = true, !t.state.Failed, t.state.Count, last, now
		emit(t.st)
	}
	rescan := func() {
		ps, err := scanProcs(withArgs)
		if err != nil {
			log.Error("track_process", "err", err)
			return
		}
		want := map[int]bool{}
		for _, t := range ts {
			clear(t.pids)
			for _, p := range ps {
				if t.spec.matches(p) {
					t.pids[p.pid] = true
					want[p.pid] = true
				}
			}
		}
		for pid, w := range watched {
			if !want[pid] {
				w.stop()
				delete(watched, pid)
			}
		}
		for pid := range want {
			if watched[pid] != nil {
				continue
			}
			w, err := watchPid(pid, exits, ctx.Done())
			if err != nil {
				if !errors.Is(err, unix.ESRCH) {
					log.Error("track_process: pidfd_open", "pid", pid, "err", err)
				}
				for _, t := range ts {
					delete(t.pids, pid)
				}
				continue
			}
			watched[pid] = w
		}
		now := clk.Now()
		for _, t := range ts {
			report(t, t.state.Observe(len(t.pids), now), now)
		}
	}
	tick := clk.NewTimer(scan)
	defer tick.Stop()
	delay := clk.NewTimer(time.Hour)
	defer delay.Stop()
	rescan()
	for {
		var next time.Time
		for _, t := range ts {
			if n := t.state.Next(); !n.IsZero() && (next.IsZero() || n.Before(next)) {
				next = n
			}
		}
		if !next.IsZero() {
			delay.Reset(max(next.Sub(clk.Now()), 0))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
			rescan()
			tick.Reset(scan)
		case pid := <-exits:
			if w := watched[pid]; w != nil {
				w.stop()
				delete(watched, pid)
			}
			now := clk.Now()
			for _, t := range ts {
				if t.pids[pid] {
					delete(t.pids, pid)
					report(t, t.state.Observe(len(t.pids), now), now)
				}
			}
		case <-delay.C():
			now := clk.Now()
			for _, t := range ts {
				if t.state.Tick(now) {
					report(t, true, now)
				}
			}
		}
	}
}
