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
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/director"
)

// defaultSocket is where the control socket lives unless the config says otherwise.
const defaultSocket = conf.DefaultControlSocket

// socketFlags adds -s and -f to fs and returns a function resolving the path.
func socketFlags(fs *flag.FlagSet) func() (string, error) {
	sock := fs.String("s", "", "control socket `path` (default: from -f, else "+defaultSocket+")")
	file := fs.String("f", "", "read the control socket path from this config `file`")
	return func() (string, error) {
		if *sock != "" {
			return *sock, nil
		}
		if *file != "" {
			cfg, _, diags := conf.Load(*file)
			if diags.HasErrors() || cfg == nil {
				// Reach the running director anyway: it says what is wrong
				// (havsd reload prints it) and counts the rejection.
				if s := socketFromBrokenFile(*file); s != "" {
					return s, nil
				}
				return defaultSocket, nil
			}
			if cfg.Global.ControlSocket != "" {
				return cfg.Global.ControlSocket, nil
			}
		}
		return defaultSocket, nil
	}
}

// clientFlags parses the flags every client command shares (-s, -f, plus
// what extra adds) and resolves the socket path. On failure it returns the
// exit code to use.
func (c *cli) clientFlags(name string, args []string, maxArgs int, extra func(*flag.FlagSet)) (*flag.FlagSet, string, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	path := socketFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if fs.Parse(args) != nil || fs.NArg() > maxArgs {
		return nil, "", exitUsage
	}
	p, err := path()
	if err != nil {
		fmt.Fprintf(c.stderr, "havsd %s: %v\n", name, err)
		return nil, "", exitBadConfig
	}
	return fs, p, exitOK
}

// printJSON pretty-prints a raw JSON result.
func (c *cli) printJSON(res json.RawMessage) {
	var v any
	_ = json.Unmarshal(res, &v)
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// call sends one request to the director and reports failures on stderr.
func (c *cli) call(ctx context.Context, path string, req control.Request, timeout time.Duration) (json.RawMessage, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := control.Call(ctx, path, req)
	if err != nil {
		fmt.Fprintf(c.stderr, "havsd %s: %v\n", req.Command, err)
		return res, false
	}
	return res, true
}

func (c *cli) status(ctx context.Context, args []string) int {
	var asJSON, watch *bool
	var every *time.Duration
	_, p, code := c.clientFlags("status", args, 0, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print the status as JSON (stable, documented in README)")
		watch = fs.Bool("watch", false, "refresh every -interval with rates, like watch ipvsadm -Ln --rate (with -json: one object per line)")
		every = fs.Duration("interval", 2*time.Second, "refresh `interval` of -watch")
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), "usage: havsd status [-s SOCK | -f FILE] [-json] [-watch [-interval D]]")
			fmt.Fprintf(fs.Output(), "exit 0 running, 1 no answer, %d when every VRRP instance is in FAULT or stopped (the daemon runs but can hold no VIP)\n", exitNoVRRP)
			fs.PrintDefaults()
		}
	})
	if code != exitOK {
		return code
	}
	if *watch {
		return c.statusWatch(ctx, p, *every, *asJSON)
	}
	res, ok := c.call(ctx, p, control.Request{Command: "status"}, 10*time.Second)
	if !ok {
		return exitFailure
	}
	var st director.Status
	if err := json.Unmarshal(res, &st); err != nil {
		fmt.Fprintln(c.stderr, "havsd status: decoding:", err)
		return exitFailure
	}
	if *asJSON {
		c.printJSON(res)
		if noVRRPLine(st) != "" {
			return exitNoVRRP
		}
		return exitOK
	}
	writeStatus(c.stdout, st)
	if line := noVRRPLine(st); line != "" {
		fmt.Fprintln(c.stderr, "havsd status:", line)
		return exitNoVRRP
	}
	return exitOK
}

// writeStatus prints the status for people, the IPVS part in ipvsadm -Ln's shape.
func writeStatus(w io.Writer, st director.Status) {
	reload := "none"
	if st.LastReload.Count > 0 {
		reload = fmt.Sprintf("%s at %s (%s)", map[bool]string{true: "ok", false: "REJECTED"}[st.LastReload.OK], st.LastReload.At.Format(time.TimeOnly), st.LastReload.Summary)
	}
	fmt.Fprintf(w, "havsd %s: config %s, up %s, last reload %s\n", st.RouterID, st.ConfigFile, time.Since(st.Started).Round(time.Second), reload)
	fmt.Fprintln(w, "\nVRRP")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  INSTANCE\tIFACE\tVRID\tVER\tSTATE\tPRIO\tMASTER\tADVERT\tVIPS\tSENT\tRECV\tDROPS")
	for _, in := range st.Instances {
		drops := uint64(0)
		for _, n := range in.Drops {
			drops += n
		}
		master := in.Master
		if master == "" {
			master = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\tv%d\t%s\t%d/%d\t%s\t%s\t%s\t%d\t%d\t%d\n", in.Name, in.Interface, in.VRID, in.Version,
			strings.ToUpper(in.State), in.EffectivePriority, in.Priority, master, in.AdvertInterval, strings.Join(in.VIPs, ","),
			in.AdvertsSent, in.AdvertsReceived, drops)
	}
	tw.Flush()
	for _, in := range st.Instances {
		for _, n := range instanceNotes(in) {
			fmt.Fprintf(w, "  %s: %s\n", in.Name, n)
		}
	}
	writeTrackers(w, st) // trackstatus.go
	writeBGP(w, st.BGP)  // drain.go
	avail := "available"
	if !st.IPVS.Available {
		avail = "not programmed: " + st.IPVS.Error
	}
	fmt.Fprintf(w, "\nIPVS %s (reconciles %d, operations %d, errors %d)\n", avail, st.IPVS.Reconciles, st.IPVS.Ops, st.IPVS.Errors)
	printSync(w, st.Sync)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Prot LocalAddress:Port Scheduler Flags\t\t\t\t\t\t")
	fmt.Fprintln(tw, "  -> RemoteAddress:Port\tForward\tWeight\tKernel\tActiveConn\tInActConn\tHealth")
	for _, s := range st.Services {
		flags := s.Scheduler
		if s.Persistence != "" {
			flags += " persistent " + s.Persistence
		}
		if !s.Programmed {
			flags += "  (not programmed)"
		}
		if s.SorryActive {
			flags += "  QUORUM LOST: sorry server in use"
		}
		fmt.Fprintf(tw, "%s %s\t\t\t\t\t\t\n", strings.ToUpper(s.Key), flags)
		for _, r := range s.Reals {
			kw := "-"
			if r.KernelWeight >= 0 {
				kw = fmt.Sprint(r.KernelWeight)
			}
			health := r.Health
			if r.Sorry {
				health += " (sorry)"
			}
			if r.Draining {
				health += " (draining)"
			}
			if r.CheckInterval != "" {
				health += " (checked every " + r.CheckInterval + ": director busy)"
			}
			if r.LastError != "" && r.Health == "down" {
				health += ": " + r.LastError
			}
			if r.Decision != "" {
				health += ": " + r.Decision
			}
			fmt.Fprintf(tw, "  -> %s\t%s\t%d\t%s\t%d\t%d\t%s\n", r.Address, r.Forward, r.Weight, kw, r.ActiveConns, r.InactiveConns, health)
		}
	}
	tw.Flush()
}

func (c *cli) reload(ctx context.Context, args []string) int {
	_, p, code := c.clientFlags("reload", args, 0, nil)
	if code != exitOK {
		return code
	}
	res, ok := c.call(ctx, p, control.Request{Command: "reload"}, 60*time.Second)
	var st director.ReloadStatus
	if res != nil {
		_ = json.Unmarshal(res, &st)
	}
	if st.Diagnostics != "" {
		fmt.Fprint(c.stderr, st.Diagnostics)
	}
	if !ok {
		return exitBadConfig
	}
	fmt.Fprintln(c.stdout, "reloaded:", st.Summary)
	return exitOK
}

func (c *cli) handover(ctx context.Context, args []string) int {
	fs, p, code := c.clientFlags("handover", args, 1, nil)
	if code == exitUsage {
		fmt.Fprintln(c.stderr, "usage: havsd handover [-s SOCKET | -f FILE] [INSTANCE]")
	}
	if code != exitOK {
		return code
	}
	start := time.Now()
	res, ok := c.call(ctx, p, control.Request{Command: "handover", Instance: fs.Arg(0)}, 2*time.Minute)
	if !ok {
		return exitFailure
	}
	var done []string
	_ = json.Unmarshal(res, &done)
	fmt.Fprintf(c.stdout, "handed over %s in %s\n", strings.Join(done, ", "), time.Since(start).Round(time.Millisecond))
	return exitOK
}

// instanceNotes are the lines under the VRRP table that say why an
// instance is not plainly master or backup: fault reason, yield after a
// handover, VIPs the kernel lacks or has unexpectedly, peers advertising
// another VIP list.
func instanceNotes(in director.InstanceStatus) []string {
	var out []string
	if in.FaultReason != "" {
		out = append(out, "FAULT: "+in.FaultReason)
	}
	if y := in.Yielding; y != nil {
		n := fmt.Sprintf("%s (yielding since %s after handover; havsd resume %s ends it", strings.ToUpper(in.State), y.Since.Local().Format(time.TimeOnly), in.Name)
		if y.Until != nil {
			n += ", or it ends at " + y.Until.Local().Format(time.TimeOnly)
		}
		out = append(out, n+")")
	}
	if len(in.MissingVIPs) > 0 {
		out = append(out, "the kernel lacks VIPs "+strings.Join(in.MissingVIPs, ",")+" (being put back)")
	}
	if len(in.UnexpectedVIPs) > 0 {
		out = append(out, "the kernel holds VIPs "+strings.Join(in.UnexpectedVIPs, ",")+" it should not (being removed)")
	}
	for _, m := range in.PeerVIPMismatch {
		out = append(out, fmt.Sprintf("peer %s advertises another VIP list %s (elected on anyway)", m.Peer, strings.Join(m.VIPs, ",")))
	}
	return out
}

// resume ends the yield that follows a handover: the instance preempts
// again per its configuration.
func (c *cli) resume(ctx context.Context, args []string) int {
	fs, p, code := c.clientFlags("resume", args, 1, nil)
	if code == exitUsage {
		fmt.Fprintln(c.stderr, "usage: havsd resume [-s SOCKET | -f FILE] [INSTANCE]")
	}
	if code != exitOK {
		return code
	}
	res, ok := c.call(ctx, p, control.Request{Command: "resume", Instance: fs.Arg(0)}, 10*time.Second)
	if !ok {
		return exitFailure
	}
	var resumed []string
	_ = json.Unmarshal(res, &resumed)
	if len(resumed) == 0 {
		fmt.Fprintln(c.stdout, "no instance was yielding")
		return exitOK
	}
	fmt.Fprintf(c.stdout, "resumed %s: preempting again per the configuration\n", strings.Join(resumed, ", "))
	return exitOK
}

func (c *cli) dump(ctx context.Context, args []string) int {
	_, p, code := c.clientFlags("dump", args, 0, nil)
	if code != exitOK {
		return code
	}
	res, ok := c.call(ctx, p, control.Request{Command: "dump"}, 10*time.Second)
	if !ok {
		return exitFailure
	}
	c.printJSON(res)
	return exitOK
}
