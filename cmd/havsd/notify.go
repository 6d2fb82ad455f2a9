package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/havsd/havsd/director"
	"github.com/havsd/havsd/internal/sdnotify"
	"github.com/havsd/havsd/vrrp"
)

// statusEvery is how often STATUS= is refreshed when systemd has no
// watchdog for us (with one, it is refreshed with each WATCHDOG=1).
const statusEvery = 10 * time.Second

// notifier tells systemd what the daemon is doing (sd_notify): READY=1 once
// running, RELOADING=1 and READY=1 around each reload, a STATUS= line with
// each instance's state and the services with quorum, and WATCHDOG=1 only
// while the director loop answers and every VRRP loop runs.
type notifier struct {
	sd       *sdnotify.Notifier
	status   func(ctx context.Context) (director.Status, error)
	log      *slog.Logger
	now      func() time.Time
	watchdog time.Duration // systemd's WatchdogSec; zero when off
}

// newNotifier returns a notifier for $NOTIFY_SOCKET and $WATCHDOG_USEC.
func newNotifier(status func(ctx context.Context) (director.Status, error), log *slog.Logger) *notifier {
	wd, _ := sdnotify.WatchdogInterval()
	return &notifier{sd: sdnotify.FromEnv(), status: status, log: log, now: time.Now, watchdog: wd}
}

func (n *notifier) send(a ...string) {
	if err := n.sd.Send(a...); err != nil {
		n.log.Warn("telling systemd", "component", "systemd", "err", err)
	}
}

// ready announces that the daemon runs.
func (n *notifier) ready() { n.send(sdnotify.Ready, sdnotify.Status("starting")) }

// stopping announces a graceful stop.
func (n *notifier) stopping() { n.send(sdnotify.Stopping, sdnotify.Status("stopping")) }

// reload runs one reload through the director, bracketed by RELOADING=1
// (with its CLOCK_MONOTONIC stamp) and READY=1, and returns its outcome.
func (n *notifier) reload(ctx context.Context, d *director.Director) (director.ReloadStatus, error) {
	n.send(sdnotify.Reloading()...)
	st, err := d.Reload(ctx)
	// A load's garbage (the file, its syntax tree, the compiled copy that
	// lost to the running one) is several times the table it describes:
	// give it back to the kernel now rather than keep the peak resident
	// for months (issue 20: 10,000 services went from 340 to 800 MB RSS).
	debug.FreeOSMemory()
	switch {
	case err != nil:
		n.send(sdnotify.Ready)
	case st.OK:
		n.send(sdnotify.Ready, sdnotify.Status("reload applied: "+st.Summary))
	default:
		n.send(sdnotify.Ready, sdnotify.Status("reload REJECTED, running the previous configuration: "+st.Summary))
	}
	return st, err
}

// run refreshes STATUS= and, when systemd asked for a watchdog, sends
// WATCHDOG=1 at half its interval while every loop is alive, until ctx ends.
func (n *notifier) run(ctx context.Context) {
	if !n.sd.Enabled() {
		return
	}
	every := statusEvery
	if n.watchdog > 0 {
		every = n.watchdog / 2
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var withheld string
	for {
		why := n.tick(ctx, every)
		switch {
		case why != "" && why != withheld:
			n.log.Error("not telling systemd's watchdog we are alive: a loop is stuck", "component", "systemd", "reason", why)
		case why == "" && withheld != "":
			n.log.Info("all loops alive again", "component", "systemd")
		}
		withheld = why
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick sends one STATUS= line and, if every loop is alive, WATCHDOG=1. It
// returns why the watchdog was withheld ("" when it was not).
func (n *notifier) tick(ctx context.Context, timeout time.Duration) string {
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := n.status(sctx)
	if err != nil {
		if ctx.Err() != nil {
			return ""
		}
		return fmt.Sprintf("the director loop did not answer within %s: %v", timeout, err)
	}
	a := []string{sdnotify.Status(statusLine(st))}
	why := stuckLoop(st, n.now())
	if why == "" && n.watchdog > 0 {
		a = append(a, sdnotify.Watchdog)
	}
	n.send(a...)
	return why
}

// stuckLoop names a VRRP instance whose loop has not run for longer than
// the dead-man switch allows (vrrp.StallRelease), or returns "".
func stuckLoop(st director.Status, now time.Time) string {
	for _, in := range st.Instances {
		advert, err := time.ParseDuration(in.AdvertInterval)
		if err != nil {
			advert = time.Second
		}
		last := in.Heartbeat
		if last.IsZero() {
			last = st.Started // not run yet: measured from the start
		}
		if silent := now.Sub(last); silent > vrrp.StallRelease(advert) {
			return fmt.Sprintf("VRRP instance %s: loop silent for %s", in.Name, silent.Round(time.Second))
		}
	}
	return ""
}

// statusLine is the one line systemctl status shows: each instance's
// state, services with quorum out of all, and a rejected reload.
func statusLine(st director.Status) string {
	var parts []string
	if line := noVRRPLine(st); line != "" {
		parts = append(parts, line) // first: systemctl status may cut the line
	}
	var vr []string
	for _, in := range st.Instances {
		vr = append(vr, in.Name+" "+strings.ToUpper(in.State))
	}
	if len(vr) > 0 {
		parts = append(parts, strings.Join(vr, ", "))
	}
	up := 0
	for _, s := range st.Services {
		if s.QuorumUp {
			up++
		}
	}
	parts = append(parts, fmt.Sprintf("services %d/%d up", up, len(st.Services)))
	if lr := st.LastReload; lr.Count > 0 && !lr.OK {
		parts = append(parts, "last reload REJECTED")
	}
	return strings.Join(parts, "; ")
}
