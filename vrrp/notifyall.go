package vrrp

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"syscall"
)

// keepalivedState is the word keepalived gives a generic notify script and
// writes to its notify FIFO for a state: MASTER, BACKUP, FAULT, STOP.
func keepalivedState(s State) string {
	switch s {
	case StateMaster:
		return "MASTER"
	case StateBackup:
		return "BACKUP"
	case StateFault:
		return "FAULT"
	}
	return "STOP"
}

// notifyAll runs the instance's generic notify command with keepalived's
// arguments (INSTANCE name state priority) and writes keepalived's line to
// the notify FIFO, for a transition to to.
func (l *loop) notifyAll(from, to State, why string) {
	prio := fmt.Sprint(l.cfg.Priority)
	if g := l.cfg.Notify.Generic; len(g) > 0 {
		l.notify.enqueue(append(slices.Clone(g), "INSTANCE", l.cfg.Name, keepalivedState(to), prio), l.env(from, to, why))
	}
	if f := l.i.opts.FIFO; f != nil {
		f.write(fmt.Sprintf("INSTANCE %q %s %s\n", l.cfg.Name, keepalivedState(to), prio))
	}
}

// notifyAll is the group's: GROUP name state.
func (g *Group) notifyAll(to State, n *notifier, fifo *NotifyFIFO) {
	if argv := g.notify.Generic; len(argv) > 0 {
		n.enqueue(append(slices.Clone(argv), "GROUP", g.name, keepalivedState(to)), []string{"HAVSD_GROUP=" + g.name, "HAVSD_STATE=" + to.String()})
	}
	if fifo != nil {
		fifo.write(fmt.Sprintf("GROUP %q %s\n", g.name, keepalivedState(to)))
	}
}

// NotifyFIFO is keepalived's notify_fifo: one line per instance or group
// transition ("INSTANCE \"VI_1\" MASTER 100", "GROUP \"G1\" BACKUP"). It is
// opened read-write and non-blocking, so writing never waits for a reader
// and a reader may come and go; lines written while the pipe is full (no
// reader keeping up) are dropped and logged.
type NotifyFIFO struct {
	log  *slog.Logger
	mu   sync.Mutex
	f    *os.File
	lost int
}

// OpenNotifyFIFO opens the FIFO at path, creating it (mode 0600) when absent.
func OpenNotifyFIFO(path string, log *slog.Logger) (*NotifyFIFO, error) {
	if log == nil {
		log = slog.Default()
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			return nil, fmt.Errorf("creating notify FIFO %s: %w", path, err)
		}
	case err != nil:
		return nil, fmt.Errorf("notify FIFO %s: %w", path, err)
	case fi.Mode()&fs.ModeNamedPipe == 0:
		return nil, fmt.Errorf("notify FIFO %s exists and is not a FIFO", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("opening notify FIFO %s: %w", path, err)
	}
	return &NotifyFIFO{log: log.With("component", "vrrp", "fifo", path), f: f}, nil
}

func (n *NotifyFIFO) write(line string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := n.f.WriteString(line); err != nil {
		n.lost++
		n.log.Warn("notify FIFO line dropped (no reader keeping up?)", "line", line[:len(line)-1], "dropped", n.lost, "err", err)
	}
}

// Close closes the FIFO (it stays in the file system for the next start).
func (n *NotifyFIFO) Close() error { return n.f.Close() }
