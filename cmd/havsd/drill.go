package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/control"
	"github.com/havsd/havsd/cmd/havsd/internal/drill"
)

// drillFlags are the settings of `havsd drill` against a real pair.
type drillFlags struct {
	target, event, netns, dev, execCmd, restoreCmd string
	sockets                                        drill.Sockets // every director's control socket
	interval, timeout, mtbf, lead, settle, pause   time.Duration
	hold                                           time.Duration // of pause and link
	n                                              int
	streams                                        int           // long-lived connections (drill/streams.go)
	streamGap                                      time.Duration // between their exchanges
}

func (c *cli) drill(ctx context.Context, args []string) int {
	var f drillFlags
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, `usage: havsd drill -target URL -event EVENT [flags]

The drill probes the target from where it runs (or from -netns) while it
injects the event, and reports the client's gap over -n repetitions.

handover, pause, delvip and link act on whichever director is master, found
through the control sockets given with -s (repeat -s for each director):
the drill then runs as root where it reaches both sockets (a lab, or a
host running both directors). pause stops the master's havsd for -hold
(SIGSTOP, as a frozen VM would), delvip deletes the VIP from its interface
behind its back, link sets its interface down for -hold.

crash, stop, and link with -exec, run the -exec command you give instead,
so the drill can run on a client of the VIP.`)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.target, "target", "", "probe `target`: tcp://VIP:PORT, http://VIP[:PORT]/PATH or icmp://VIP")
	fs.StringVar(&f.event, "event", "handover", "`event`: handover, pause, delvip, link, crash or stop")
	fs.Var(&f.sockets, "s", "control `socket` of a director (repeat for each): handover, pause, delvip and link act on the master")
	fs.DurationVar(&f.hold, "hold", 6*time.Second, "how long pause stops the master and link keeps its interface down")
	fs.StringVar(&f.execCmd, "exec", "", "`command` (argv, split on spaces, no shell) that triggers crash, link or stop, e.g. \"ssh lb1 systemctl kill -s KILL havsd\"")
	fs.StringVar(&f.restoreCmd, "restore", "", "`command` run after each repetition to undo the event")
	fs.DurationVar(&f.interval, "interval", 5*time.Millisecond, "probe `interval`")
	fs.DurationVar(&f.timeout, "timeout", 500*time.Millisecond, "probe `timeout`")
	fs.IntVar(&f.n, "n", 5, "repetitions")
	fs.DurationVar(&f.mtbf, "mtbf", 720*time.Hour, "mean time between failures for the availability arithmetic")
	fs.DurationVar(&f.lead, "lead", 500*time.Millisecond, "probing before each event")
	fs.DurationVar(&f.settle, "settle", 2*time.Second, "probing after the last lost probe")
	fs.DurationVar(&f.pause, "pause", 5*time.Second, "steady probing required before each repetition")
	fs.StringVar(&f.netns, "netns", "", "probe from this network `namespace` (default: here)")
	fs.IntVar(&f.streams, "streams", 0, "also hold `N` long-lived TCP connections through the VIP (tcp:// target: an echo service; http://: keep-alive GETs) and report how many survive each event")
	fs.DurationVar(&f.streamGap, "stream-gap", 10*time.Millisecond, "time between the exchanges of one long-lived connection")
	fs.StringVar(&f.dev, "dev", "", "watch gratuitous ARPs for the VIP on this `interface`")
	if fs.Parse(args) != nil || fs.NArg() > 0 {
		return exitUsage
	}
	if err := c.runDrill(ctx, f); err != nil {
		fmt.Fprintln(c.stderr, "havsd drill:", err)
		if errors.Is(err, errDrillUsage) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}

var errDrillUsage = errors.New("usage")

func (c *cli) runDrill(ctx context.Context, f drillFlags) error {
	if f.target == "" {
		return fmt.Errorf("%w: -target is required", errDrillUsage)
	}
	t, err := drill.ParseTarget(f.target)
	if err != nil {
		return fmt.Errorf("%w: %v", errDrillUsage, err)
	}
	ev := drill.Event{Name: f.event}
	vip := t.Addr.Addr()
	switch {
	case f.event == "handover" || f.event == "pause" || f.event == "delvip" || f.event == "link" && f.execCmd == "":
		if len(f.sockets) == 0 {
			return fmt.Errorf("%w: -event %s needs -s SOCKET for each director (their control sockets), or -exec for link", errDrillUsage, f.event)
		}
		ev.Trigger = func(ctx context.Context, _ string) error { return pairEvent(ctx, f, vip) }
	case f.event == "crash" || f.event == "link" || f.event == "stop":
		if f.execCmd == "" {
			return fmt.Errorf("%w: -event %s on a real pair needs -exec COMMAND that does it (or use havsd lab)", errDrillUsage, f.event)
		}
		ev.Trigger = func(ctx context.Context, _ string) error { return runArgv(ctx, strings.Fields(f.execCmd)) }
	default:
		return fmt.Errorf("%w: unknown event %q (handover, pause, delvip, link, crash or stop)", errDrillUsage, f.event)
	}
	if f.restoreCmd != "" {
		ev.Restore = func(ctx context.Context) error { return runArgv(ctx, strings.Fields(f.restoreCmd)) }
	}
	v, err := drill.EnterNS(f.netns)
	if err != nil {
		return err
	}
	defer v.Close()
	pr, err := drill.NewProber(t, v)
	if err != nil {
		return err
	}
	defer pr.Close()
	ev.Ready = func(ctx context.Context) (string, error) { return "", steady(ctx, pr, f.timeout, f.pause) }
	cfg := drill.Config{Prober: pr, Interval: f.interval, Timeout: f.timeout, N: f.n, Lead: f.lead, Settle: f.settle, Log: c.stdout}
	if f.streams > 0 {
		ev = drill.WithStreams(ev, v, drill.StreamsConfig{Target: t, N: f.streams, Gap: f.streamGap},
			func(r drill.StreamsReport) { fmt.Fprintln(c.stdout, "  "+r.Line()) })
	}
	if f.dev != "" {
		if cfg.GARP, err = drill.WatchGARP(v, f.dev, t.Addr.Addr()); err != nil {
			return err
		}
		defer cfg.GARP.Close()
	}
	fmt.Fprintf(c.stdout, "drill: %s, %d times, probing %s every %s\n", f.event, f.n, t, f.interval)
	rs, err := drill.Run(ctx, cfg, ev)
	if len(rs) > 0 {
		drill.WriteSummary(c.stdout, f.event, rs, f.mtbf)
	}
	return err
}

// pairEvent injects a handover, pause, delvip or link on whichever director
// is master for the VIP now.
func pairEvent(ctx context.Context, f drillFlags, vip netip.Addr) error {
	m, dev, p, err := drill.MasterOf(ctx, f.sockets, vip)
	if err != nil {
		return err
	}
	switch f.event {
	case "handover":
		_, err = control.Call(ctx, m.Socket, control.Request{Command: "handover"})
	case "pause":
		err = m.Pause(ctx, f.hold)
	case "delvip":
		err = m.DelVIP(ctx, dev, p)
	case "link":
		err = m.LinkDown(ctx, dev, f.hold)
	}
	if err != nil {
		return fmt.Errorf("%s on the master (%s): %w", f.event, m.Socket, err)
	}
	return nil
}

// steady waits until the target has answered every probe for d.
func steady(ctx context.Context, pr drill.Prober, timeout, d time.Duration) error {
	deadline := time.Now().Add(d + 2*time.Minute)
	since := time.Now()
	for time.Now().Before(deadline) {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := pr.Probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			since = time.Now()
		} else if time.Since(since) >= d {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("the target did not answer steadily before the repetition")
}

func runArgv(ctx context.Context, argv []string) error {
	if len(argv) == 0 {
		return errors.New("empty command")
	}
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
