package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// version is set at build time (-ldflags "-X main.version=..."); the Debian
// package takes it from git describe.
var version = "devel"

func (c *cli) version(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(c.stderr, "usage: havsd version")
		return exitUsage
	}
	fmt.Fprintf(c.stdout, "havsd %s\n", version)
	fmt.Fprintf(c.stdout, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	writeFeatures(c.stdout, probeFeatures(os.DirFS("/")))
	return exitOK
}

// features is what the running kernel offers havsd, as far as an
// unprivileged look (and netlink, when privileged) can tell.
type features struct {
	Kernel     string   // uname -r
	IPVS       string   // "available (IP Virtual Server version 1.2.1 (size=4096))", or why not
	Loaded     []string // schedulers whose modules are loaded or built in
	Modules    []string // schedulers available as modules, not loaded
	NFTables   string   // "available" or why not
	Privileged bool     // the netlink probes ran with CAP_NET_ADMIN
}

// probeFeatures looks at the kernel through root (the host's / in
// production) and netlink.
func probeFeatures(root fs.FS) features {
	f := features{Kernel: kernelRelease(), Privileged: unix.Geteuid() == 0}
	f.Loaded, f.Modules = schedulers(root, f.Kernel)
	if _, err := netlink.GenlFamilyGet("IPVS"); err != nil {
		f.IPVS = "not found (generic netlink family IPVS: " + err.Error() + ")"
		if slices.Contains(f.Modules, "ip_vs") {
			f.IPVS = "not loaded (module ip_vs available; havsd run loads it)"
		}
	} else {
		f.IPVS = "available"
		if hdr := firstLine(root, "proc/net/ip_vs"); hdr != "" {
			f.IPVS += " (" + hdr + ")"
		}
	}
	f.Loaded = slices.DeleteFunc(f.Loaded, func(s string) bool { return s == "ip_vs" })
	f.Modules = slices.DeleteFunc(f.Modules, func(s string) bool { return s == "ip_vs" })
	f.NFTables = "available"
	if conn, err := nftables.New(); err != nil {
		f.NFTables = "unknown: " + err.Error()
	} else if _, err := conn.ListTables(); err != nil {
		f.NFTables = "not usable: " + err.Error()
	}
	return f
}

func writeFeatures(w io.Writer, f features) {
	fmt.Fprintf(w, "kernel: %s\n", f.Kernel)
	fmt.Fprintf(w, "ipvs: %s\n", f.IPVS)
	none := func(s []string) string {
		if len(s) == 0 {
			return "none"
		}
		return strings.Join(s, " ")
	}
	fmt.Fprintf(w, "schedulers: loaded or built in: %s; modules: %s\n", none(f.Loaded), none(f.Modules))
	fmt.Fprintf(w, "nftables: %s\n", f.NFTables)
	if !f.Privileged {
		fmt.Fprintln(w, "(not root: the netlink probes may report less than the kernel has)")
	}
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func firstLine(root fs.FS, name string) string {
	f, err := root.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Scan()
	return strings.TrimSpace(s.Text())
}

// schedulers lists IPVS scheduler names ("rr", "wrr", ...) loaded or built
// into the kernel, and those available as modules of release but not
// loaded. "ip_vs" itself is listed when present, for the caller.
func schedulers(root fs.FS, release string) (loaded, modules []string) {
	name := func(mod string) (string, bool) {
		mod = strings.ReplaceAll(mod, "-", "_")
		if mod == "ip_vs" {
			return mod, true
		}
		s, ok := strings.CutPrefix(mod, "ip_vs_")
		if !ok || strings.HasPrefix(s, "ftp") || strings.HasPrefix(s, "pe_") {
			return "", false // helpers and persistence engines, not schedulers
		}
		return s, true
	}
	add := func(list *[]string, mod string) {
		if s, ok := name(mod); ok && !slices.Contains(loaded, s) && !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	if b, err := fs.ReadFile(root, "proc/modules"); err == nil {
		for line := range strings.Lines(string(b)) {
			if f := strings.Fields(line); len(f) > 0 {
				add(&loaded, f[0])
			}
		}
	}
	moddir := path.Join("lib/modules", release)
	if b, err := fs.ReadFile(root, path.Join(moddir, "modules.builtin")); err == nil {
		for line := range strings.Lines(string(b)) {
			add(&loaded, strings.TrimSuffix(path.Base(strings.TrimSpace(line)), ".ko"))
		}
	}
	ents, _ := fs.ReadDir(root, path.Join(moddir, "kernel/net/netfilter/ipvs"))
	for _, e := range ents {
		mod, _, _ := strings.Cut(e.Name(), ".ko")
		add(&modules, mod)
	}
	slices.Sort(loaded)
	slices.Sort(modules)
	return loaded, modules
}
