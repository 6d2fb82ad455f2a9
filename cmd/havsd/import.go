package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/conf/keepalived"
	"github.com/havsd/havsd/lvs/ipvsadm"
)

// exitLeftOut is import's and check --from's exit code when something of
// the keepalived configuration was not carried over (the HCL is written).
const exitLeftOut = 3

// defaultKeepalived is the file keepalived reads by default.
const defaultKeepalived = "/etc/keepalived/keepalived.conf"

// importRules writes an HCL configuration equivalent to ipvsadm -Sn rules on
// stdin, or with --from keepalived to a keepalived configuration file.
func (c *cli) importRules(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	out := fs.String("o", "", "write the configuration to `file` (or, with --from keepalived, to an existing directory: a conf.d) instead of stdout")
	from := fs.String("from", "", "read a `keepalived` configuration instead of ipvsadm rules")
	routerID := fs.String("router-id", "", "with --from keepalived: the `id` @id lines are evaluated for (default: the file's router_id)")
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "usage: havsd import [-o FILE] < rules   (rules as ipvsadm -Sn prints them, or its -Ln table)")
		fmt.Fprintln(c.stderr, "       havsd import --from keepalived [-o FILE|DIR] [--router-id ID] [keepalived.conf]")
		fs.PrintDefaults()
	}
	pos, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	switch *from {
	case "":
		if len(pos) > 0 {
			fs.Usage()
			return exitUsage
		}
		return c.importIPVS(out)
	case "keepalived":
		file, ok := oneFile(fs, pos, defaultKeepalived)
		if !ok {
			return exitUsage
		}
		return c.importKeepalived(file, *out, *routerID)
	}
	fmt.Fprintf(c.stderr, "havsd import: --from %q: only keepalived is known\n", *from)
	return exitUsage
}

// parseInterleaved parses flags that may come before or after positional
// arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagExit(err), false
		}
		if fs.NArg() == 0 {
			return pos, exitOK, true
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

func oneFile(fs *flag.FlagSet, pos []string, def string) (string, bool) {
	switch len(pos) {
	case 0:
		return def, true
	case 1:
		return pos[0], true
	}
	fmt.Fprintf(fs.Output(), "havsd %s: one keepalived configuration at a time, not %s\n", fs.Name(), strings.Join(pos, " "))
	return "", false
}

// migration is a keepalived configuration read, converted and checked by
// havsd's own loader.
type migration struct {
	res   *keepalived.Result
	diags keepalived.Diagnostics
	// loadDiags are havsd's findings on the converted HCL; ok is false when
	// it refuses it.
	src       *conf.Source
	loadDiags hcl.Diagnostics
	ok        bool
}

// migrate parses, converts and loads; code is exitFailure when the input
// could not be read or parsed.
func (c *cli) migrate(cmd, file, routerID string) (*migration, int) {
	p, diags := keepalived.Parse(file, keepalived.Options{ConfigID: routerID})
	if p == nil {
		c.writeKeepalived(cmd, diags)
		return nil, exitFailure
	}
	res, more := keepalived.Convert(p)
	diags = append(diags, more...)
	if diags.HasErrors() {
		c.writeKeepalived(cmd, diags)
		return nil, exitFailure
	}
	m := &migration{res: res, diags: diags}
	cfg, src, ld := conf.LoadBytes(file+" (converted)", res.HCL())
	m.src, m.loadDiags, m.ok = src, ld, cfg != nil
	return m, exitOK
}

// report prints the keepalived findings and havsd's own on the result, and
// returns the exit code: 0 all converted, exitLeftOut otherwise.
func (c *cli) report(cmd string, m *migration) int {
	c.writeKeepalived(cmd, m.diags)
	if len(m.loadDiags) > 0 {
		if !m.ok {
			fmt.Fprintf(c.stderr, "havsd %s: havsd refuses the converted configuration:\n", cmd)
		}
		c.writeDiagnostics(m.src, m.loadDiags)
	}
	n := 0
	for _, d := range m.diags {
		if d.Severity == keepalived.NotConverted {
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(c.stderr, "havsd %s: %d keepalived setting(s) not converted\n", cmd, n)
	}
	if n > 0 || !m.ok {
		return exitLeftOut
	}
	return exitOK
}

func (c *cli) writeKeepalived(cmd string, diags keepalived.Diagnostics) {
	for _, d := range diags {
		fmt.Fprintf(c.stderr, "havsd %s: %s\n", cmd, d)
	}
}

// importKeepalived converts a keepalived configuration to stdout, a file, or
// a conf.d directory (one file per virtual service, one for VRRP).
func (c *cli) importKeepalived(file, out, routerID string) int {
	m, code := c.migrate("import", file, routerID)
	if m == nil {
		return code
	}
	if err := c.writeConverted(m.res, out); err != nil {
		fmt.Fprintf(c.stderr, "havsd import: %v\n", err)
		return exitFailure
	}
	return c.report("import", m)
}

func (c *cli) writeConverted(res *keepalived.Result, out string) error {
	if out == "" {
		_, err := c.stdout.Write(res.HCL())
		return err
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		for _, f := range res.Files() {
			if err := os.WriteFile(filepath.Join(out, f.Name), f.Data, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	return os.WriteFile(out, res.HCL(), 0o644)
}

// checkKeepalived prints the migration report of a keepalived
// configuration without writing anything.
func (c *cli) checkKeepalived(file, routerID string, quiet bool) int {
	stderr := c.stderr
	if quiet {
		c.stderr = discard{}
		defer func() { c.stderr = stderr }()
	}
	m, code := c.migrate("check", file, routerID)
	if m == nil {
		return code
	}
	code = c.report("check", m)
	if !quiet && code == exitOK {
		cfg := m.res.Config
		fmt.Fprintf(c.stdout, "%s: converts completely: %d VRRP instance(s), %d virtual service(s)\n", file, len(cfg.Instances), len(cfg.Services))
	}
	return code
}

// checkFrom is check --from: the file defaults to keepalived's.
func (c *cli) checkFrom(fs *flag.FlagSet, from, file, routerID string, quiet bool) int {
	if from != "keepalived" {
		fmt.Fprintf(c.stderr, "havsd check: --from %q: only keepalived is known\n", from)
		return exitUsage
	}
	if file == defaultConfig {
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "f" })
		if !given {
			file = defaultKeepalived
		}
	}
	return c.checkKeepalived(file, routerID, quiet)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// importIPVS reads ipvsadm -Sn rules on stdin and writes an equivalent HCL
// configuration (to -o FILE, or stdout).
func (c *cli) importIPVS(out *string) int {
	svcs, err := ipvsadm.Parse(c.stdin)
	if err != nil {
		c.writeParseErrors("import", "stdin", err)
		return exitFailure
	}
	if len(svcs) == 0 {
		fmt.Fprintln(c.stderr, "havsd: import: stdin: no rules read: pipe in what `ipvsadm -Sn` (or -Ln) prints")
		return exitFailure
	}
	text := append([]byte("# Imported from ipvsadm -Sn rules by havsd import.\n"), conf.Format(conf.FromIPVS(svcs))...)
	// The result must load: anything ipvsadm accepts that havsd refuses
	// (e.g. an unknown scheduler) is reported against the written text.
	name := *out
	if name == "" {
		name = "<imported>"
	}
	if cfg, src, diags := conf.LoadBytes(name, text); cfg == nil {
		fmt.Fprintln(c.stderr, "havsd: import: the rules do not make a valid havsd configuration:")
		c.writeDiagnostics(src, diags)
		return exitBadConfig
	}
	if *out == "" {
		if _, err := c.stdout.Write(text); err != nil {
			fmt.Fprintf(c.stderr, "havsd: import: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	if err := os.WriteFile(*out, text, 0o644); err != nil {
		fmt.Fprintf(c.stderr, "havsd: import: %v\n", err)
		return exitFailure
	}
	return exitOK
}
