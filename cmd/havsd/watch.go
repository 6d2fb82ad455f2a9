package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/control"
	"github.com/havsd/havsd/director"
)

// ANSI sequences for the refreshing view on a terminal.
const (
	ansiHome      = "\x1b[H\x1b[2J"
	ansiHighlight = "\x1b[1;7m" // bold, reverse video
	ansiReset     = "\x1b[0m"
)

// recentChange is how long a VRRP state change stays highlighted.
const recentChange = 10 * time.Second

// statusWatch refreshes the status every interval until ctx ends, like
// `watch ipvsadm -Ln --rate`: rates per service and real server, VRRP
// state changes highlighted. With asJSON it prints one status object per
// line instead.
func (c *cli) statusWatch(ctx context.Context, path string, interval time.Duration, asJSON bool) int {
	if interval <= 0 {
		fmt.Fprintln(c.stderr, "havsd status: -interval must be positive")
		return exitUsage
	}
	tty := isTerminal(c.stdout)
	var prev *director.Status
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, ok := c.call(ctx, path, control.Request{Command: "status"}, 10*time.Second)
		if ctx.Err() != nil {
			return exitOK // interrupted: the normal way out
		}
		if !ok {
			return exitFailure
		}
		if asJSON {
			var v any
			_ = json.Unmarshal(res, &v)
			_ = json.NewEncoder(c.stdout).Encode(v)
		} else {
			var st director.Status
			if err := json.Unmarshal(res, &st); err != nil {
				fmt.Fprintln(c.stderr, "havsd status: decoding:", err)
				return exitFailure
			}
			var b strings.Builder
			if tty {
				b.WriteString(ansiHome)
			}
			writeWatch(&b, st, prev, time.Now(), interval, tty)
			if !tty {
				b.WriteString("\n")
			}
			io.WriteString(c.stdout, b.String())
			prev = &st
		}
		select {
		case <-ctx.Done():
			return exitOK
		case <-t.C:
		}
	}
}

// writeWatch renders one frame: a header, the VRRP instances with state
// changes (since prev, or within recentChange) highlighted, and the IPVS
// table with the kernel's rates. highlight selects ANSI attributes; without
// it a changed row is marked with "*".
func writeWatch(w io.Writer, st director.Status, prev *director.Status, now time.Time, every time.Duration, highlight bool) {
	fmt.Fprintf(w, "Every %s: havsd %s, config %s    %s\n", every, st.RouterID, st.ConfigFile, now.Format(time.TimeOnly))
	was := map[string]string{}
	if prev != nil {
		for _, in := range prev.Instances {
			was[in.Name] = in.State
		}
	}
	fmt.Fprintln(w, "\nVRRP")
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  INSTANCE\tVRID\tSTATE\tPRIO\tMASTER\tVIPS HELD\tLAST CHANGE")
	marks := []bool{false} // the header
	for _, in := range st.Instances {
		change := "-"
		recent := false
		if lt := in.LastTransition; lt != nil {
			change = fmt.Sprintf("%s %s->%s (%s), %s ago", lt.At.Format(time.TimeOnly), strings.ToUpper(lt.From), strings.ToUpper(lt.To),
				lt.Reason, now.Sub(lt.At).Round(time.Second))
			recent = now.Sub(lt.At) < recentChange
		}
		if old, ok := was[in.Name]; ok && old != in.State {
			recent = true
		}
		marks = append(marks, recent)
		master := in.Master
		if master == "" {
			master = "-"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%d/%d\t%s\t%d/%d\t%s\n", in.Name, in.VRID, strings.ToUpper(in.State), in.EffectivePriority, in.Priority,
			master, len(in.HeldVIPs), len(in.VIPs), change)
	}
	tw.Flush()
	// Highlight whole rows once aligned: escape codes inside cells would
	// count towards their width.
	for i, line := range strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n") {
		switch {
		case i < len(marks) && marks[i] && highlight:
			line = ansiHighlight + line + ansiReset
		case i < len(marks) && marks[i]:
			line = "*" + line[1:]
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "IPVS (rates per second, as ipvsadm -Ln --rate)")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Prot LocalAddress:Port\tCPS\tInPPS\tOutPPS\tInBPS\tOutBPS\tWeight\tActive\tHealth\t")
	fmt.Fprintln(tw, "  -> RemoteAddress:Port\t\t\t\t\t\t\t\t\t")
	for _, s := range st.Services {
		r := s.Rates
		note := ""
		switch {
		case !s.Programmed:
			note = "not programmed"
		case s.SorryActive:
			note = "QUORUM LOST"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\t\t%s\t\n", strings.ToUpper(s.Key), r.Conns, human(r.PacketsIn), human(r.PacketsOut),
			human(r.BytesIn), human(r.BytesOut), note)
		for _, rs := range s.Reals {
			r := rs.Rates
			kw := "-"
			if rs.KernelWeight >= 0 {
				kw = fmt.Sprint(rs.KernelWeight)
			}
			fmt.Fprintf(tw, "  -> %s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", rs.Address, r.Conns, human(r.PacketsIn), human(r.PacketsOut),
				human(r.BytesIn), human(r.BytesOut), kw, rs.ActiveConns, rs.Health)
		}
	}
	tw.Flush()
}

// human prints a rate with ipvsadm's K/M/G suffixes.
func human(n uint64) string {
	switch {
	case n >= 10_000_000_000:
		return fmt.Sprintf("%dG", n/1_000_000_000)
	case n >= 10_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 100_000:
		return fmt.Sprintf("%dK", n/1_000)
	}
	return fmt.Sprint(n)
}
