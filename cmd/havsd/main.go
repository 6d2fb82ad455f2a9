// Command havsd is a high-availability Linux load-balancer director: VRRP
// floats virtual addresses between directors, IPVS balances them across real
// servers, health checks steer the weights.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/havsd/havsd/cmd/havsd/internal/lab"
)

// Exit codes shared by every subcommand.
const (
	exitOK        = 0 // success
	exitFailure   = 1 // runtime failure
	exitUsage     = 2 // bad command line
	exitBadConfig = 3 // the configuration did not load or validate
)

// cli carries the standard streams so that commands can be tested in-process.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand: it parses its own flags and returns an exit code.
// A command without a summary is internal to havsd (started by another
// command) and not listed in the usage.
type command struct {
	name, summary string
	run           func(c *cli, ctx context.Context, args []string) int
}

func commands() []command {
	return []command{
		{"run", "run the director: VRRP, IPVS and health checks (-f FILE)", (*cli).run},
		{"check", "validate a configuration file and print every problem (-f FILE)", (*cli).check},
		{"export", "print the IPVS rules a configuration means, as ipvsadm -Sn does", (*cli).export},
		{"import", "read ipvsadm -Sn rules on stdin and write an equivalent HCL config", (*cli).importRules},
		{"status", "show VRRP and IPVS state of the running director (--json)", (*cli).status},
		{"reload", "ask the running director to reload its configuration", (*cli).reload},
		{"handover", "hand the master role over to a backup without a gap", (*cli).handover},
		{"resume", "end the yield after a handover: preempt again per the configuration", (*cli).resume},
		{"drain", "withdraw every BGP route, keep serving established flows, wait for them (-for D)", (*cli).drain},
		{"undrain", "end a drain: announce the BGP routes again where the services can be served", (*cli).undrain},
		{"dump", "print the running director's full internal state", (*cli).dump},
		{"debug", "profile the running director (pprof) or show its memory, goroutines and files", (*cli).debug},
		{"realserver", "prepare this host as a DR or TUN real server (--vip, --mode, --undo)", (*cli).realserver},
		{"digest", "print the body digest of a URL, as keepalived's genhash does", (*cli).digest},
		{"lab", "build a local lab of namespaces, run a failover drill, tear it down", (*cli).lab},
		{"drill", "measure a failover as a client sees it", (*cli).drill},
		{"version", "print the version, the Go version and the kernel features found", (*cli).version},
		{lab.ResponderCommand, "", (*cli).labResponder},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	code := c.main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// main dispatches to a subcommand and returns the process exit code.
func (c *cli) main(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		c.usage(c.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			code := cmd.run(c, ctx, args[1:])
			if code == exitUsage && asksHelp(args[1:]) {
				return exitOK // the usage was asked for, not a mistake
			}
			return code
		}
	}
	fmt.Fprintf(c.stderr, "havsd: unknown command %q\n", args[0])
	c.usage(c.stderr)
	return exitUsage
}

// asksHelp reports whether a command line asks for help (-h, -help,
// --help before any "--"): every command then exits 0 after its usage.
func asksHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintln(w, "usage: havsd COMMAND [flags]")
	fmt.Fprintln(w)
	for _, cmd := range commands() {
		if cmd.summary == "" {
			continue
		}
		fmt.Fprintf(w, "  %-11s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w, "\nRun 'havsd COMMAND -h' for a command's flags.")
}
