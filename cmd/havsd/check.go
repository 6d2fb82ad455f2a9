package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/director"
	"github.com/havsd/havsd/lvs/ipvsadm"
)

// checkGCPercent is the garbage collector's target while havsd check loads
// a configuration (unless GOGC is set): collect once the heap has grown by
// half of what is live, not by all of it as by default. A load keeps its
// whole decoded table live until it is validated, so the default lets a
// large table's check peak at about twice that; with 50 the peak is about
// 1.5 times (10,000 services of 4 real servers: 137 MB RSS at 100, 116 MB
// at 50) for some 12 % more CPU (more collections). havsd run keeps
// the default.
const checkGCPercent = 50

// check validates a configuration file: exit 0 when it loads (warnings on
// stderr), exitBadConfig with every diagnostic on stderr otherwise.
func (c *cli) check(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	file := fs.String("f", defaultConfig, "configuration `file` to check (or give it as the argument), the one havsd run reads")
	quiet := fs.Bool("q", false, "print nothing; the exit code says it all")
	from := fs.String("from", "", "check a `keepalived` configuration instead: what havsd import would leave out (exit 0 all, 3 some, 1 unreadable)")
	routerID := fs.String("router-id", "", "with --from keepalived: the `id` @id lines are evaluated for")
	host := fs.Bool("host", false, "also check against this host: warn about interfaces it lacks (default: on for "+defaultConfig+", the file havsd run reads here; off for any other file, which may be meant for another host)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: havsd check [-q] [-f] [FILE]   (default %s, as havsd run)\n", defaultConfig)
		fmt.Fprintf(fs.Output(), "       havsd check --from keepalived [-q] [--router-id ID] [FILE]   (default %s)\n", defaultKeepalived)
		fs.PrintDefaults()
	}
	if code, ok := parseFileArgs(fs, args, file); !ok {
		return code
	}
	if *from != "" {
		return c.checkFrom(fs, *from, *file, *routerID, *quiet)
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(checkGCPercent))
	}
	cfg, src, diags := conf.Load(*file)
	if !*quiet {
		c.writeDiagnostics(src, diags)
	}
	if cfg == nil {
		return exitBadConfig
	}
	hostCheck := *file == defaultConfig
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "host" {
			hostCheck = *host
		}
	})
	if hostCheck && !*quiet {
		for _, w := range missingInterfaces(cfg, interfaceExists) {
			fmt.Fprintf(c.stderr, "havsd check: warning: %s\n", w)
		}
	}
	if !*quiet {
		fmt.Fprintf(c.stdout, "%s: ok: %d VRRP instance(s), %d virtual service(s)\n", *file, len(cfg.Instances), len(cfg.Services))
	}
	return exitOK
}

// export prints the IPVS rules a configuration means, as ipvsadm -Sn would
// print them once every real server is up.
func (c *cli) export(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	file := fs.String("f", "", "configuration `file` to export")
	if code, ok := parseConfigFlags(fs, args, file); !ok {
		return code
	}
	cfg, src, diags := conf.Load(*file)
	if cfg == nil {
		c.writeDiagnostics(src, diags)
		return exitBadConfig
	}
	if _, err := io.WriteString(c.stdout, ipvsadm.Format(director.Configured(cfg).Desired.Services)); err != nil {
		fmt.Fprintf(c.stderr, "havsd: export: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// parseConfigFlags parses args for a command that needs -f FILE.
func parseConfigFlags(fs *flag.FlagSet, args []string, file *string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		return flagExit(err), false
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "usage: havsd %s -f FILE\n", fs.Name())
		fs.PrintDefaults()
		return exitUsage, false
	}
	return exitOK, true
}

// writeParseErrors prints each located error of an ipvsadm.Parse as
// "havsd: CMD: NAME:LINE: problem".
func (c *cli) writeParseErrors(cmd, name string, err error) {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var pe *ipvsadm.ParseError
		if errors.As(e, &pe) {
			fmt.Fprintf(c.stderr, "havsd: %s: %s:%d: %v\n", cmd, name, pe.Line, pe.Err)
		} else {
			fmt.Fprintf(c.stderr, "havsd: %s: %s: %v\n", cmd, name, e)
		}
	}
}

// parseFileArgs parses args for a command that reads one configuration:
// given with -f or as the one argument (keepalived -t users write it so),
// with flags before or after it.
func parseFileArgs(fs *flag.FlagSet, args []string, file *string) (int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return flagExit(err), false
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	setF := false
	fs.Visit(func(f *flag.Flag) { setF = setF || f.Name == "f" })
	switch {
	case len(pos) > 1:
		fmt.Fprintf(fs.Output(), "havsd %s: one configuration at a time, not %s\n", fs.Name(), strings.Join(pos, " "))
		fs.Usage()
		return exitUsage, false
	case len(pos) == 1 && setF:
		fmt.Fprintf(fs.Output(), "havsd %s: give the configuration with -f or as the argument, not both (-f %s, %s)\n", fs.Name(), *file, pos[0])
		fs.Usage()
		return exitUsage, false
	case len(pos) == 1:
		*file = pos[0]
	}
	return exitOK, true
}

// flagExit maps a flag parsing error to an exit code: -h is not a failure.
func flagExit(err error) int {
	if err == flag.ErrHelp {
		return exitOK
	}
	return exitUsage
}

// writeDiagnostics prints diagnostics to stderr, in colour on a terminal.
func (c *cli) writeDiagnostics(src *conf.Source, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	var buf bytes.Buffer
	src.WriteDiagnostics(&buf, diags, isTerminal(c.stderr))
	c.stderr.Write(buf.Bytes())
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
