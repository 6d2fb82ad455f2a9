package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/control"
	"github.com/havsd/havsd/internal/procstat"
)

// RuntimeStats is the answer to "debug-runtime": what a long-running
// director holds, for watching it grow (or not) across reloads and time.
type RuntimeStats struct {
	RSS         uint64 `json:"rss_bytes"`            // resident set size, from /proc/self/stat
	HeapInUse   uint64 `json:"heap_inuse_bytes"`     // heap spans in use (runtime/metrics)
	HeapObjects uint64 `json:"heap_objects_bytes"`   // live and not yet swept heap objects
	TotalMapped uint64 `json:"runtime_mapped_bytes"` // all memory the Go runtime has mapped
	Goroutines  uint64 `json:"goroutines"`
	FDs         int    `json:"open_fds"` // entries of /proc/self/fd
	GCs         uint64 `json:"gc_cycles"`
}

// readRuntime samples this process.
func readRuntime() (RuntimeStats, error) {
	names := []string{
		"/memory/classes/heap/objects:bytes",
		"/memory/classes/heap/unused:bytes",
		"/memory/classes/total:bytes",
		"/sched/goroutines:goroutines",
		"/gc/cycles/total:gc-cycles",
	}
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	metrics.Read(samples)
	v := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return samples[i].Value.Uint64()
	}
	st := RuntimeStats{HeapObjects: v(0), HeapInUse: v(0) + v(1), TotalMapped: v(2), Goroutines: v(3), GCs: v(4)}
	ps, err := procstat.Read(os.Getpid())
	if err != nil {
		return st, fmt.Errorf("reading this process's stat: %w", err)
	}
	st.RSS = ps.RSS()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return st, fmt.Errorf("counting open files: %w", err)
	}
	st.FDs = len(fds) - 1 // less the directory being read
	return st, nil
}

// debugAnswer answers the debug requests of the control socket (root only,
// like every request).
func debugAnswer(req control.Request) (any, error) {
	if req.Command == "debug-runtime" {
		if req.GC {
			runtime.GC()
		}
		return readRuntime()
	}
	p := pprof.Lookup(req.Profile)
	if p == nil {
		return nil, fmt.Errorf("no profile %q: havsd has %v", req.Profile, profileNames())
	}
	if req.GC {
		runtime.GC()
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, req.Debug); err != nil {
		return nil, fmt.Errorf("writing the %s profile: %w", req.Profile, err)
	}
	return buf.Bytes(), nil // JSON carries it as base64
}

func profileNames() []string {
	var names []string
	for _, p := range pprof.Profiles() {
		names = append(names, p.Name())
	}
	slices.Sort(names)
	return names
}

// debug is "havsd debug pprof PROFILE" and "havsd debug runtime": the
// running director's profiles (for go tool pprof) and memory, goroutine and
// file counts, over the control socket.
func (c *cli) debug(ctx context.Context, args []string) int {
	usage := func() {
		fmt.Fprintf(c.stderr, "usage: havsd debug pprof [-s SOCKET | -f FILE] [-debug N] [-gc] PROFILE > FILE\n"+
			"       havsd debug runtime [-s SOCKET | -f FILE] [-gc]\n"+
			"PROFILE is one of %v; -debug 0 writes the binary form for go tool pprof.\n", profileNames())
		fs := flag.NewFlagSet("debug", flag.ContinueOnError)
		fs.SetOutput(c.stderr)
		socketFlags(fs)
		debugFlags(fs, "pprof")
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage()
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	var level *int
	var gc *bool
	sub := args[0]
	maxArgs := map[string]int{"pprof": 1, "runtime": 0}
	n, ok := maxArgs[sub]
	if !ok {
		usage()
		return exitUsage
	}
	fs, p, code := c.clientFlags("debug "+sub, args[1:], n, func(fs *flag.FlagSet) { level, gc = debugFlags(fs, sub) })
	if code != exitOK {
		if code == exitUsage {
			usage()
		}
		return code
	}
	if sub == "runtime" {
		res, ok := c.call(ctx, p, control.Request{Command: "debug-runtime", GC: *gc}, 30*time.Second)
		if !ok {
			return exitFailure
		}
		c.printJSON(res)
		return exitOK
	}
	if fs.NArg() != 1 {
		usage()
		return exitUsage
	}
	res, ok := c.call(ctx, p, control.Request{Command: "debug-pprof", Profile: fs.Arg(0), Debug: *level, GC: *gc}, 30*time.Second)
	if !ok {
		return exitFailure
	}
	var b []byte
	if err := json.Unmarshal(res, &b); err != nil {
		fmt.Fprintln(c.stderr, "havsd debug pprof: decoding:", err)
		return exitFailure
	}
	_, _ = c.stdout.Write(b)
	return exitOK
}

// debugFlags adds the flags of havsd debug SUB to fs.
func debugFlags(fs *flag.FlagSet, sub string) (level *int, gc *bool) {
	gc = fs.Bool("gc", false, "collect garbage first")
	level = new(int)
	if sub == "pprof" {
		level = fs.Int("debug", 0, "text `level` of the profile (0: binary protobuf for go tool pprof; 1, 2: text)")
	}
	return level, gc
}
