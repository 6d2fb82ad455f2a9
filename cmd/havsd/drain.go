package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/control"
	"github.com/havsd/havsd/director"
)

// drain puts the director in maintenance: every BGP route is withdrawn,
// established flows keep being served, and the command waits until they
// have moved (no active connection left on the BGP services) or drain_for
// is over. The drain lasts until havsd undrain.
func (c *cli) drain(ctx context.Context, args []string) int {
	var forDur *time.Duration
	var wait *bool
	_, p, code := c.clientFlags("drain", args, 0, func(fs *flag.FlagSet) {
		forDur = fs.Duration("for", 0, "wait at most this `duration` for the traffic to move (default: the bgp block's drain_for)")
		wait = fs.Bool("wait", true, "wait for the traffic to move; -wait=false returns once the routes are withdrawn")
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), "usage: havsd drain [-s SOCK | -f FILE] [-for DURATION] [-wait=false]")
			fmt.Fprintln(fs.Output(), "withdraw every BGP route of this director, keep serving established flows, and wait until")
			fmt.Fprintln(fs.Output(), "their active connections reach 0 or the duration is over; havsd undrain ends the drain")
			fs.PrintDefaults()
		}
	})
	if code != exitOK {
		return code
	}
	req := control.Request{Command: "drain"}
	if *forDur > 0 {
		req.For = forDur.String()
	}
	res, ok := c.call(ctx, p, req, 10*time.Second)
	if !ok {
		return exitFailure
	}
	var ws director.BGPWaitStatus
	_ = json.Unmarshal(res, &ws)
	fmt.Fprintf(c.stdout, "drained: every BGP route is withdrawn; established flows are still served (havsd undrain ends the drain)\n")
	if !*wait {
		return exitOK
	}
	return c.waitDrain(ctx, p, ws)
}

// waitDrain polls the status until the drain's traffic has moved, its time
// is over, or it has ended.
func (c *cli) waitDrain(ctx context.Context, path string, ws director.BGPWaitStatus) int {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		if ws.Moved {
			fmt.Fprintf(c.stdout, "traffic has moved: no active connection left on the BGP services\n")
			return exitOK
		}
		if !time.Now().Before(ws.Until) {
			fmt.Fprintf(c.stdout, "drain_for is over: %d active connection(s) left on the BGP services, still served\n", ws.ActiveConns)
			return exitOK
		}
		select {
		case <-ctx.Done():
			return exitFailure
		case <-tick.C:
		}
		res, ok := c.call(ctx, path, control.Request{Command: "status"}, 10*time.Second)
		if !ok {
			return exitFailure
		}
		var st director.Status
		if err := json.Unmarshal(res, &st); err != nil {
			fmt.Fprintln(c.stderr, "havsd drain: decoding the status:", err)
			return exitFailure
		}
		if st.BGP == nil || st.BGP.Drain == nil {
			fmt.Fprintln(c.stdout, "the drain has ended (havsd undrain or a reload without bgp)")
			return exitOK
		}
		ws = *st.BGP.Drain
	}
}

// undrain ends a drain: the routes are announced again where the services
// can be served.
func (c *cli) undrain(ctx context.Context, args []string) int {
	_, p, code := c.clientFlags("undrain", args, 0, nil)
	if code != exitOK {
		return code
	}
	res, ok := c.call(ctx, p, control.Request{Command: "undrain"}, 10*time.Second)
	if !ok {
		return exitFailure
	}
	var was bool
	_ = json.Unmarshal(res, &was)
	if !was {
		fmt.Fprintln(c.stdout, "not drained: nothing to undo")
		return exitOK
	}
	fmt.Fprintln(c.stdout, "drain ended: the BGP routes are announced again where the services can be served")
	return exitOK
}

// drainRequest answers the control socket's drain request.
func drainRequest(ctx context.Context, d *director.Director, req control.Request) (any, error) {
	var forDur time.Duration
	if req.For != "" {
		var err error
		if forDur, err = time.ParseDuration(req.For); err != nil {
			return nil, fmt.Errorf("drain: bad duration %q: %w", req.For, err)
		}
	}
	return d.Drain(ctx, forDur)
}

// writeBGP prints the BGP sessions and the announcement of each VIP with
// its reason.
func writeBGP(w io.Writer, st *director.BGPStatus) {
	if st == nil {
		return
	}
	state := "speaker running"
	if !st.Running {
		state = "speaker NOT running (see the log)"
	}
	fmt.Fprintf(w, "\nBGP AS %d router id %s, %s\n", st.ASN, st.RouterID, state)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NEIGHBOR\tAS\tSTATE\tUP\tMSGS SENT/RECV\tUPDATES SENT/RECV\tLAST ERROR")
	for _, n := range st.Neighbors {
		up := "-"
		if n.UptimeSeconds > 0 {
			up = (time.Duration(n.UptimeSeconds * float64(time.Second))).Round(time.Second).String()
		}
		lastErr := n.LastError
		if lastErr == "" {
			lastErr = "-"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%d/%d\t%d/%d\t%s\n", n.Address, n.ASN, strings.ToUpper(n.State), up,
			n.MsgsSent, n.MsgsReceived, n.UpdatesSent, n.UpdatesReceived, lastErr)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  VIP\tSTATE\tSINCE\tLOOPBACK\tSERVICES\tREASON")
	for _, v := range st.VIPs {
		since := "-"
		if !v.Since.IsZero() {
			since = time.Since(v.Since).Round(time.Second).String()
		}
		state := strings.ToUpper(v.State)
		if (v.State != "withdrawn") != v.InSpeaker {
			state += " (speaker: " + map[bool]string{true: "announcing", false: "not announcing"}[v.InSpeaker] + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", v.Prefix, state, since, map[bool]string{true: "yes", false: "NO"}[v.OnLoopback],
			strings.Join(v.Services, ","), v.Reason)
	}
	tw.Flush()
	for _, x := range []struct {
		name string
		w    *director.BGPWaitStatus
	}{{"DRAINED (havsd undrain ends it)", st.Drain}, {"STOPPING", st.Stopping}} {
		if x.w == nil {
			continue
		}
		what := fmt.Sprintf("waiting for traffic to move until %s", x.w.Until.Local().Format(time.TimeOnly))
		switch {
		case x.w.Moved:
			what = "traffic has moved"
		case x.w.Read:
			what += fmt.Sprintf(", %d active connection(s) left", x.w.ActiveConns)
		}
		fmt.Fprintf(w, "  %s since %s: %s\n", x.name, x.w.Since.Local().Format(time.TimeOnly), what)
	}
	if lo := st.Loopback; lo.Error != "" || len(lo.Missing) > 0 {
		fmt.Fprintf(w, "  loopback %s lacks %s: %s\n", lo.Device, strings.Join(lo.Missing, ","), lo.Error)
	}
}
