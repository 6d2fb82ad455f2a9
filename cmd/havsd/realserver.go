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
	undo := fs.Bool("undo", false, "remove the VIP and reset the ARP sysctls instead")
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "usage: havsd realserver --vip ADDR[/PLEN] --mode dr|tun [--dev DEV] [--undo]")
		fmt.Fprintln(c.stderr, "\nPuts the VIP on lo (dr) or an ipip device (tun), sets arp_ignore=1 and")
		fmt.Fprintln(c.stderr, "arp_announce=2 (and rp_filter=0 for tun); idempotent. --undo reverses it.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 || *vip == "" || *mode == "" {
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
	cfg := realserver.Config{VIP: p, Mode: m, Dev: *dev}
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
