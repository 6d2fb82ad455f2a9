package main

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/havsd/havsd/internal/vmrun"
)

// labVM runs the same lab inside the test VM (test/vm), whose kernel has
// IPVS, passing on the lab's flags. It needs a static havsd binary and the
// cache test/vm/setup.sh prepares.
func (c *cli) labVM(ctx context.Context, args []string, cache string, director string) int {
	if director != "havsd" {
		fmt.Fprintln(c.stderr, "havsd lab --vm: the VM image has no keepalived; use --director havsd")
		return exitUsage
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(c.stderr, "havsd lab --vm:", err)
		return exitFailure
	}
	if static, err := isStatic(self); err != nil || !static {
		fmt.Fprintf(c.stderr, "havsd lab --vm: %s is not a static binary (the VM has no C library): build it with CGO_ENABLED=0 go build ./cmd/havsd\n", self)
		return exitFailure
	}
	guest := []string{"/havsd/havsd", "lab"}
	guest = append(guest, stripVMFlags(args)...)
	if !hasFlag(args, "advert") {
		// The VM is emulated (TCG): sub-second adverts would measure the
		// emulator, not VRRP.
		guest = append(guest, "-advert", "1s")
	}
	guest = append(guest, "-dir", "/tmp/havsd-lab")
	fmt.Fprintf(c.stdout, "booting the test VM (qemu, cache %s) to run: %s\n", cache, strings.Join(guest[1:], " "))
	res, err := vmrun.Run(ctx, vmrun.Options{
		Cache:   cache,
		Files:   []vmrun.File{{Host: self, Guest: "/havsd/havsd"}},
		Command: guest,
		MemMiB:  1024,
		CPUs:    2,
		Timeout: 20 * time.Minute,
		Console: c.stdout,
	})
	if errors.Is(err, vmrun.ErrNoCache) {
		fmt.Fprintf(c.stderr, "havsd lab --vm: %v: run test/vm/setup.sh %s (or set HAVSD_VM_CACHE)\n", err, cache)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintln(c.stderr, "havsd lab --vm:", err)
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "VM: boot %s, total %s, lab exit status %d\n", res.Boot.Round(time.Millisecond), res.Total.Round(time.Millisecond), res.ExitCode)
	if res.ExitCode != 0 {
		return exitFailure
	}
	return exitOK
}

// stripVMFlags removes the flags that only make sense on the host.
func stripVMFlags(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(args[i], "-")
		base, _, hasValue := strings.Cut(name, "=")
		switch base {
		case "vm", "keep":
			continue
		case "vm-cache", "dir", "json", "state-dir", "prefix":
			if !hasValue && i+1 < len(args) {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// hasFlag reports whether args set the named flag.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		base, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && base == name {
			return true
		}
	}
	return false
}

// isStatic reports whether an ELF executable has no program interpreter.
func isStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// defaultVMCache is where test/vm/setup.sh leaves its cache.
func defaultVMCache() string {
	if c := os.Getenv("HAVSD_VM_CACHE"); c != "" {
		return c
	}
	return filepath.Join("test", "vm", "cache")
}
