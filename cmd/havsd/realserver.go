package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/havsd/havsd/lvs/realserver"
)

// realserver prepares this host as a DR or TUN real server, or undoes it.
func (c *cli) realserver(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("havsd realserver", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	vip := fs.String("vip", "", "virtual address, ADDR or ADDR/PLEN (default /32 or /128)")
	mode := fs.String("mode", "", "forwarding method the director uses: dr or tun")
	dev := fs.String("dev", "", `device for the VIP (default "lo" for dr, "tunl0" for tun)`)
	undo := fs.Bool("undo", false, "remove the VIP and restore the sysctl values found before instead")
	force := fs.Bool("force", false, "accept a VIP prefix shorter than /32 (/128), which claims a whole subnet")
	state := fs.String("state", realserver.DefaultStateDir, "`directory` recording the sysctl values found, for --undo")
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "usage: havsd realserver --vip ADDR[/32] --mode dr|tun [--dev DEV] [--undo]")
		fmt.Fprintln(c.stderr, "\nPuts the VIP on lo (dr) or an ipip device (tun), sets arp_ignore=1 and")
		fmt.Fprintln(c.stderr, "arp_announce=2 (and rp_filter=0 for tun); idempotent. --undo reverses it.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	var missing []string
	if *vip == "" {
		missing = append(missing, "--vip ADDR (the virtual address the director forwards to this host)")
	}
	if *mode == "" {
		missing = append(missing, "--mode dr|tun (the director's forwarding method)")
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "havsd realserver: unexpected argument %q\n", fs.Arg(0))
	}
	for _, m := range missing {
		fmt.Fprintf(c.stderr, "havsd realserver: missing %s\n", m)
	}
	if fs.NArg() > 0 || len(missing) > 0 {
		fs.Usage()
		return exitUsage
	}
	p, err := realserver.ParseVIP(*vip)
	if err != nil {
		fmt.Fprintf(c.stderr, "havsd realserver: --vip: %v\n", err)
		return exitUsage
	}
	m, err := realserver.ParseMode(*mode)
	if err != nil {
		fmt.Fprintf(c.stderr, "havsd realserver: --mode: %v\n", err)
		return exitUsage
	}
	cfg := realserver.Config{VIP: p, Mode: m, Dev: *dev, StateDir: *state, Force: *force}
	if err := cfg.CheckHost(); err != nil && !*force && !*undo {
		fmt.Fprintf(c.stderr, "havsd realserver: --vip: %v (--force if you mean it)\n", err)
		return exitUsage
	}
	run, verb := realserver.Setup, "set up"
	if *undo {
		run, verb = realserver.Undo, "undone"
	}
	changes, err := run(cfg)
	for _, ch := range changes {
		fmt.Fprintln(c.stdout, ch)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "havsd realserver: %v\n", err)
		return exitFailure
	}
	if len(changes) == 0 {
		fmt.Fprintf(c.stdout, "nothing to do: %s real server for %s already %s\n", m, p, verb)
	}
	return exitOK
}
