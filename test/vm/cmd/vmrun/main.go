// Command vmrun boots the havsd test VM once and runs a static Go test binary
// in it, streaming the console and exiting with the binary's status.
//
//	go run ./test/vm/cmd/vmrun [-mem 1024] [-smp 1] [-timeout 120s] -- PKG.test [test flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/havsd/havsd/internal/vmrun"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vmrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cache := fs.String("cache", defaultCache(), "cache directory prepared by test/vm/setup.sh")
	mem := fs.Int("mem", 1024, "guest memory in MiB")
	smp := fs.Int("smp", 1, "guest vCPUs")
	timeout := fs.Duration("timeout", 150*time.Second, "deadline for the whole boot")
	raw := fs.Bool("raw", false, "run the binary as given, without -test.v and -test.timeout")
	var files multiFlag
	fs.Var(&files, "file", "HOST:GUEST file to add to the image (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vmrun [flags] -- BINARY [args...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return 2
	}
	bin := fs.Arg(0)
	guest := "/havsd/" + filepath.Base(bin)
	cmd := []string{guest}
	if !*raw {
		// Let the test binary time out first, so a hang prints its goroutines.
		cmd = append(cmd, "-test.v", fmt.Sprintf("-test.timeout=%v", *timeout-20*time.Second))
	}
	cmd = append(cmd, fs.Args()[1:]...)
	opts := vmrun.Options{
		Cache:   *cache,
		Files:   append([]vmrun.File{{Host: bin, Guest: guest}}, files...),
		Command: cmd,
		MemMiB:  *mem,
		CPUs:    *smp,
		Timeout: *timeout,
		Console: stdout,
	}
	// CI and the HAVSD_* knobs of the tests (e.g. HAVSD_BENCH_SERVICES)
	// reach the guest; nothing else of the host's environment does.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CI=") || (strings.HasPrefix(kv, "HAVSD_") && !strings.HasPrefix(kv, "HAVSD_VM=")) {
			opts.Env = append(opts.Env, kv)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := vmrun.Run(ctx, opts)
	fmt.Fprintf(stderr, "vmrun: %s: boot %.2fs (guest uptime %.2fs), total %.2fs, exit %d\n",
		filepath.Base(bin), res.Boot.Seconds(), res.GuestUptime.Seconds(), res.Total.Seconds(), res.ExitCode)
	if err != nil {
		fmt.Fprintf(stderr, "vmrun: %v\n", err)
		if errors.Is(err, vmrun.ErrNoCache) {
			return 3
		}
		return 1
	}
	return res.ExitCode
}

// defaultCache is test/vm/cache next to this command's source when run from
// the repository root, or HAVSD_VM_CACHE.
func defaultCache() string {
	if c := os.Getenv("HAVSD_VM_CACHE"); c != "" {
		return c
	}
	return filepath.Join("test", "vm", "cache")
}

type multiFlag []vmrun.File

func (m *multiFlag) String() string { return fmt.Sprint(*m) }

func (m *multiFlag) Set(s string) error {
	host, guest, ok := strings.Cut(s, ":")
	if !ok || !strings.HasPrefix(guest, "/") {
		return fmt.Errorf("want HOST:/GUEST/PATH, got %q", s)
	}
	*m = append(*m, vmrun.File{Host: host, Guest: guest})
	return nil
}
