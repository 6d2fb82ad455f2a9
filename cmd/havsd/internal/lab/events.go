package lab

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"

	"github.com/havsd/havsd/cmd/havsd/internal/drill"
	"github.com/havsd/havsd/netlab"
)

// Events the lab can trigger on the master.
const (
	EventCrash    = "crash"    // the master dies: its links drop and its daemon is SIGKILLed
	EventLink     = "link"     // the master's links go down; its daemon keeps running
	EventStop     = "stop"     // graceful stop: SIGTERM to the master's daemon
	EventHandover = "handover" // planned handover through the control socket (havsd only)
)

// EventNames lists the events in the order the lab runs them by default.
var EventNames = []string{EventCrash, EventLink, EventStop, EventHandover}

// Supports reports whether the director kind can do an event.
func (k Kind) Supports(event string) bool {
	return event != EventHandover || k == KindHavsd
}

// Event returns the drill event of that name for this lab.
func (l *Lab) Event(name string) (drill.Event, error) {
	if !l.opt.Kind.Supports(name) {
		return drill.Event{}, fmt.Errorf("%s has no %s", l.opt.Kind, name)
	}
	ev := drill.Event{Name: name, Ready: l.Ready}
	var victim = -1
	switch name {
	case EventCrash:
		ev.Trigger = func(ctx context.Context, master string) error {
			i, err := index(master)
			if err != nil {
				return err
			}
			victim = i
			// The machine is gone: nothing leaves it any more, and its
			// daemon gets no chance to say goodbye.
			if err := l.setLinks(ctx, master, "down"); err != nil {
				return err
			}
			return l.kill(i)
		}
		ev.Restore = func(ctx context.Context) error { return l.reboot(ctx, victim) }
	case EventLink:
		ev.Trigger = func(ctx context.Context, master string) error {
			i, err := index(master)
			if err != nil {
				return err
			}
			victim = i
			return l.setLinks(ctx, master, "down")
		}
		ev.Restore = func(ctx context.Context) error {
			l.expectAfterRestore(victim)
			return l.setLinks(ctx, netlab.Directors[victim], "up")
		}
	case EventStop:
		ev.Trigger = func(ctx context.Context, master string) error {
			i, err := index(master)
			if err != nil {
				return err
			}
			victim = i
			p := l.Director(i)
			if p == nil {
				return fmt.Errorf("director %s is not running", master)
			}
			return p.Signal(syscall.SIGTERM)
		}
		ev.Restore = func(ctx context.Context) error { return l.reboot(ctx, victim) }
	case EventHandover:
		ev.Trigger = func(ctx context.Context, master string) error {
			i, err := index(master)
			if err != nil {
				return err
			}
			out, err := exec.CommandContext(ctx, l.opt.Self, "handover", "-s", l.Socket(i)).CombinedOutput()
			if err != nil {
				return fmt.Errorf("havsd handover: %w: %s", err, strings.TrimSpace(string(out)))
			}
			return nil
		}
	default:
		return drill.Event{}, fmt.Errorf("unknown event %q (want %s)", name, strings.Join(EventNames, ", "))
	}
	return ev, nil
}

// ClientNS is the namespace of the lab's client.
func (l *Lab) ClientNS() string { return l.Topo.NS(netlab.Client) }
