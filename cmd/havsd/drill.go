package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/drill"
)

// drillFlags are the settings of `havsd drill` against a real pair.
type drillFlags struct {
	target, event, socket, netns, dev, execCmd, restoreCmd string
	interval, timeout, mtbf, lead, settle, pause           time.Duration
	n                                                      int
	streams                                                int           // long-lived connections (drill/streams.go)
	streamGap                                              time.Duration // between their exchanges
}

func (c *cli) drill(ctx context.Context, args []string) int {
	var f drillFlags
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "usage: havsd drill -target URL -event EVENT [flags]\n\nRun it on a client of the VIP. The handover event goes through the master's\ncontrol socket (-s); crash, link and stop run the -exec command you give.")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.target, "target", "", "probe `target`: tcp://VIP:PORT, http://VIP[:PORT]/PATH or icmp://VIP")
	fs.StringVar(&f.event, "event", "handover", "`event`: handover, crash, link or stop")
	fs.StringVar(&f.socket, "s", "", "control `socket` of the master, for -event handover")
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
	switch f.event {
	case "handover":
		if f.socket == "" {
			return fmt.Errorf("%w: -event handover needs -s SOCKET (the master's control socket)", errDrillUsage)
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		ev.Trigger = func(ctx context.Context, _ string) error {
			return runArgv(ctx, []string{self, "handover", "-s", f.socket})
		}
	case "crash", "link", "stop":
		if f.execCmd == "" {
			return fmt.Errorf("%w: -event %s on a real pair needs -exec COMMAND that does it (or use havsd lab)", errDrillUsage, f.event)
		}
		ev.Trigger = func(ctx context.Context, _ string) error { return runArgv(ctx, strings.Fields(f.execCmd)) }
	default:
		return fmt.Errorf("%w: unknown event %q", errDrillUsage, f.event)
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
