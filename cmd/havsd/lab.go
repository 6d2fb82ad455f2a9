package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/drill"
	"github.com/havsd/havsd/cmd/havsd/internal/lab"
	"github.com/havsd/havsd/netlab"
)

// labResponder is the hidden `havsd lab-responder NAME`: the HTTP server the
// lab runs on each real server, answering every request with NAME.
func (c *cli) labResponder(ctx context.Context, args []string) int {
	if len(args) != 1 || args[0] == "" {
		fmt.Fprintln(c.stderr, "usage: havsd "+lab.ResponderCommand+" NAME   (started by havsd lab)")
		return exitUsage
	}
	if err := lab.Serve(ctx, args[0], ":80"); err != nil {
		fmt.Fprintln(c.stderr, "havsd:", err)
		return exitFailure
	}
	return exitOK
}

// labFlags are the settings of `havsd lab`.
type labFlags struct {
	mode, director, dir, events, target, prefix, stateDir, jsonOut, vmCache string
	keep, vm                                                                bool
	version, n, reals, streams                                              int
	directors, sources, share                                               int           // --mode ecmp
	hold                                                                    time.Duration // --mode ecmp
	advert, interval, timeout, mtbf                                         time.Duration
}

func (c *cli) lab(ctx context.Context, args []string) int {
	if len(args) > 0 && args[0] == "down" {
		return c.labDown(args[1:])
	}
	var f labFlags
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "usage: havsd lab [flags]     build a lab, run a failover drill, tear it down")
		fmt.Fprintln(c.stderr, "       havsd lab down        remove a lab left up (--keep) or after a crash")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.mode, "mode", "nat", "`mode` of the lab: nat or dr (a VRRP pair), or ecmp (directors announcing the VIP over BGP to a BIRD 2 router; see doc/lab.md)")
	fs.BoolVar(&f.keep, "keep", false, "leave the lab up for exploring (remove it with havsd lab down)")
	fs.StringVar(&f.dir, "dir", "", "`directory` for configs and logs (default: a new one under "+os.TempDir()+")")
	fs.BoolVar(&f.vm, "vm", false, "run the lab inside the test VM (test/vm), where IPVS is available; needs a static binary; adverts default to 1s there (emulated CPU)")
	fs.StringVar(&f.vmCache, "vm-cache", defaultVMCache(), "`directory` prepared by test/vm/setup.sh")
	fs.StringVar(&f.director, "director", "havsd", "director `software`: havsd, or keepalived (--vrrp) as a baseline")
	fs.IntVar(&f.version, "vrrp-version", 3, "VRRP `version`, 2 or 3")
	fs.DurationVar(&f.advert, "advert", 100*time.Millisecond, "VRRP advert `interval` (whole seconds for version 2)")
	fs.StringVar(&f.events, "events", "", "comma-separated `events` to drill: crash, link, stop, handover (default crash,handover; crash,stop for keepalived)")
	fs.IntVar(&f.n, "n", 3, "repetitions of each event")
	fs.IntVar(&f.reals, "reals", 2, "number of real servers")
	fs.IntVar(&f.streams, "streams", 20, "`N` long-lived connections through the VIP during each event where the kernel has IPVS and the directors sync connections (0: none)")
	fs.StringVar(&f.target, "target", "http://"+netlab.VIP.String()+"/", "probe `target` from the client: http://VIP/, tcp://VIP:80 or icmp://VIP")
	fs.DurationVar(&f.interval, "interval", 5*time.Millisecond, "probe `interval`")
	fs.DurationVar(&f.timeout, "timeout", 500*time.Millisecond, "probe `timeout`")
	fs.DurationVar(&f.mtbf, "mtbf", 720*time.Hour, "mean time between failures for the availability arithmetic")
	fs.StringVar(&f.prefix, "prefix", lab.DefaultPrefix, "namespace name `prefix` (tests use their own)")
	fs.StringVar(&f.stateDir, "state-dir", netlab.DefaultStateDir, "`directory` of the lab's state file")
	fs.StringVar(&f.jsonOut, "json", "", "also write the drill results as JSON to `file`")
	fs.IntVar(&f.directors, "directors", 3, "ecmp: number of directors")
	fs.IntVar(&f.sources, "sources", 64, "ecmp: extra client source `addresses`")
	fs.IntVar(&f.share, "share", 300, "ecmp: `N` new connections counted for the flow share per director")
	fs.DurationVar(&f.hold, "hold", 3*time.Second, "ecmp: BGP hold `time` (whole seconds, at least 3s)")
	if fs.Parse(args) != nil || fs.NArg() > 0 {
		return exitUsage
	}
	if f.mode == "ecmp" {
		if !hasFlag(args, "reals") {
			f.reals = 0 // the ECMP lab's default
		}
		return c.labECMP(ctx, f)
	}
	if f.vm {
		return c.labVM(ctx, args, f.vmCache, f.director)
	}
	opt, events, err := f.options()
	if err != nil {
		fmt.Fprintln(c.stderr, "havsd lab:", err)
		return exitUsage
	}
	if err := labPrereqs(opt.Kind); err != nil {
		fmt.Fprintln(c.stderr, "havsd lab:", err)
		return exitFailure
	}
	if err := c.runLab(ctx, f, opt, events); err != nil {
		fmt.Fprintln(c.stderr, "havsd lab:", err)
		return exitFailure
	}
	return exitOK
}

func (f *labFlags) options() (lab.Options, []string, error) {
	var opt lab.Options
	var err error
	if opt.Mode, err = netlab.ParseMode(f.mode); err != nil {
		return opt, nil, err
	}
	if opt.Kind, err = lab.ParseKind(f.director); err != nil {
		return opt, nil, err
	}
	opt.Version, opt.Advert, opt.Reals, opt.Services = f.version, f.advert, f.reals, true
	opt.Prefix, opt.StateDir = f.prefix, f.stateDir
	if err := opt.Validate(); err != nil {
		return opt, nil, err
	}
	if f.n < 1 || f.interval <= 0 || f.timeout <= 0 {
		return opt, nil, errors.New("-n, -interval and -timeout must be positive")
	}
	if f.streams < 0 {
		return opt, nil, errors.New("-streams must not be negative")
	}
	if _, err := drill.ParseTarget(f.target); err != nil {
		return opt, nil, err
	}
	events := []string{lab.EventCrash, lab.EventHandover}
	if opt.Kind == lab.KindKeepalived {
		events = []string{lab.EventCrash, lab.EventStop}
	}
	if f.events != "" {
		events = strings.Split(f.events, ",")
	}
	for _, e := range events {
		if !opt.Kind.Supports(e) {
			return opt, nil, fmt.Errorf("event %q is not available with %s", e, opt.Kind)
		}
	}
	if opt.Self, err = os.Executable(); err != nil {
		return opt, nil, fmt.Errorf("finding the havsd binary: %w", err)
	}
	return opt, events, nil
}

// labPrereqs checks for root and the binaries the lab needs.
func labPrereqs(k lab.Kind) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (it creates network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("needs the ip command (Debian package iproute2)")
	}
	if k == lab.KindKeepalived {
		if _, err := exec.LookPath("keepalived"); err != nil {
			return errors.New("needs keepalived for --director keepalived (apt-get install keepalived)")
		}
	}
	return nil
}

// ipvsAvailable reports whether the kernel has IPVS (loading the module).
func ipvsAvailable(ctx context.Context) bool {
	_ = exec.CommandContext(ctx, "modprobe", "-q", "ip_vs").Run()
	_, err := os.Stat("/proc/net/ip_vs")
	return err == nil
}

func (c *cli) runLab(ctx context.Context, f labFlags, opt lab.Options, events []string) (err error) {
	out := c.stdout
	if f.dir == "" {
		if f.dir, err = os.MkdirTemp("", "havsd-lab-"); err != nil {
			return err
		}
	}
	opt.Dir, opt.Log = f.dir, out
	if !ipvsAvailable(ctx) {
		fmt.Fprintln(out, "note: this kernel has no IPVS (ip_vs): the lab shows VRRP, VIP movement and health checks; the VIP is served by a responder on the master itself (use --vm for IPVS)")
	} else if opt.Kind == lab.KindHavsd {
		// With IPVS the directors sync their connections, and the drills
		// show that established ones survive.
		opt.Sync = true
	}
	fmt.Fprintf(out, "building a %s lab: client, directors d1 and d2 (%s, VRRPv%d, advert %s), %d real servers; namespaces %s*\n",
		opt.Mode, opt.Kind, opt.Version, opt.Advert, opt.Reals, opt.Prefix)
	l, err := lab.Up(ctx, opt)
	if errors.Is(err, netlab.ErrExists) {
		down := "havsd lab down"
		if opt.Prefix != lab.DefaultPrefix {
			down += " -prefix " + opt.Prefix
		}
		return fmt.Errorf("%w: a lab is already up (or a crashed one left its namespaces): remove it with %s", err, down)
	}
	if err != nil {
		return err
	}
	keep := false
	defer func() {
		if keep {
			return
		}
		fmt.Fprintln(out, "tearing the lab down")
		if cerr := l.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	fmt.Fprintf(out, "configs and logs in %s\n", l.Dir())
	master, err := l.Ready(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "master: %s (holds %s)\n\n", master, netlab.VIP)
	for i, d := range netlab.Directors {
		fmt.Fprintf(out, "--- status of %s\n%s\n", d, l.Status(ctx, i))
	}
	if err := c.labTraffic(ctx, l, f.target); err != nil {
		return err
	}
	all, err := c.labDrills(ctx, l, f, events, opt.Sync)
	cpu := c.labCPU(l)
	if f.jsonOut != "" && len(all) > 0 {
		if werr := writeDrillJSON(f.jsonOut, opt, all, cpu); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	if f.keep {
		keep = true
		fmt.Fprintf(out, "\nthe lab stays up (--keep). Try:\n  ip netns exec %s curl -s http://%s/\n  havsd status -s %s\n  ip -n %s addr show eth0\nand remove it with: havsd lab down", l.ClientNS(), netlab.VIP, l.Socket(0), l.Topo.NS(netlab.D1))
		if opt.Prefix != lab.DefaultPrefix {
			fmt.Fprintf(out, " -prefix %s", opt.Prefix)
		}
		fmt.Fprintln(out)
	}
	return nil
}

// labTraffic sends a few requests from the client through the VIP.
func (c *cli) labTraffic(ctx context.Context, l *lab.Lab, target string) error {
	v, err := drill.EnterNS(l.ClientNS())
	if err != nil {
		return err
	}
	defer v.Close()
	url := "http://" + netlab.VIP.String() + "/"
	fmt.Fprintf(c.stdout, "client → %s:", url)
	for i := 0; i < 4; i++ {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		body, err := drill.HTTPGet(cctx, v, url)
		cancel()
		if err != nil {
			return fmt.Errorf("client request through the VIP: %w", err)
		}
		fmt.Fprintf(c.stdout, " %s", strings.TrimSpace(body))
	}
	fmt.Fprintln(c.stdout)
	return nil
}

// labCPU prints and returns the CPU share of each running director.
func (c *cli) labCPU(l *lab.Lab) []cpuJSON {
	var out []cpuJSON
	for i, d := range netlab.Directors {
		cpu, wall, err := l.CPU(i)
		if err != nil || wall < 5*time.Second { // just restarted: no meaningful share
			continue
		}
		pct := 100 * float64(cpu) / float64(wall)
		fmt.Fprintf(c.stdout, "CPU of %s: %s in %s (%.1f%% of a core)\n", d, cpu, wall.Round(time.Second), pct)
		out = append(out, cpuJSON{Node: d, Percent: pct, WallS: wall.Seconds()})
	}
	return out
}

// eventResults are one event's drill results.
type eventResults struct {
	Event   string
	Results []drill.Result
}

func (c *cli) labDrills(ctx context.Context, l *lab.Lab, f labFlags, events []string, sync bool) ([]eventResults, error) {
	v, err := drill.EnterNS(l.ClientNS())
	if err != nil {
		return nil, err
	}
	defer v.Close()
	t, err := drill.ParseTarget(f.target)
	if err != nil {
		return nil, err
	}
	pr, err := drill.NewProber(t, v)
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	garp, err := drill.WatchGARP(v, "eth0", netlab.VIP)
	if err != nil {
		return nil, err
	}
	defer garp.Close()
	// The long-lived connections send keep-alive HTTP requests to the real
	// servers' responders through the VIP, whatever the probe target.
	st, err := drill.ParseTarget("http://" + netlab.VIP.String() + "/")
	if err != nil {
		return nil, err
	}
	var all []eventResults
	for _, name := range events {
		ev, err := l.Event(name)
		if err != nil {
			return all, err
		}
		fmt.Fprintf(c.stdout, "\ndrill: %s of the master, %d times, probing %s every %s from the client\n", name, f.n, t, f.interval)
		cfg := drill.Config{
			Prober: pr, Interval: f.interval, Timeout: f.timeout, N: f.n,
			Lead: 300 * time.Millisecond, Jitter: max(f.advert, 10*time.Millisecond),
			Settle: max(time.Second, 3*f.advert), GARP: garp, VIP: l.VIPs, Log: c.stdout,
		}
		var streams []drill.StreamsReport
		if sync && f.streams > 0 {
			sc := drill.StreamsConfig{Target: st, N: f.streams, Gap: 20 * time.Millisecond}
			ev = drill.WithStreams(ev, v, sc, func(r drill.StreamsReport) {
				fmt.Fprintln(c.stdout, "  "+r.Line())
				streams = append(streams, r)
			})
		}
		rs, err := drill.Run(ctx, cfg, ev)
		if len(rs) > 0 {
			drill.WriteSummary(c.stdout, name, rs, f.mtbf)
			all = append(all, eventResults{Event: name, Results: rs})
		}
		if len(streams) > 0 {
			fmt.Fprintf(c.stdout, "%s: %s\n", name, streamsTotal(streams))
		}
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// streamsTotal sums the long-lived connections of every repetition of an
// event: "established connections survived: 58/60 (longest stall 1.2s)".
func streamsTotal(rs []drill.StreamsReport) string {
	var survived, n int
	var stall time.Duration
	for _, r := range rs {
		survived += r.Survived
		n += len(r.Streams)
		stall = max(stall, r.MaxStall)
	}
	return fmt.Sprintf("established connections survived: %d/%d (longest stall %v)", survived, n, stall.Round(time.Millisecond))
}

// drillJSON is the machine-readable form of a lab's results (the failover
// benchmark reads it).
type drillJSON struct {
	Director string      `json:"director"`
	Mode     string      `json:"mode"`
	Version  int         `json:"vrrp_version"`
	AdvertMS float64     `json:"advert_ms"`
	Events   []eventJSON `json:"events"`
	CPU      []cpuJSON   `json:"cpu,omitempty"`
}

type cpuJSON struct {
	Node    string  `json:"node"`
	Percent float64 `json:"percent"`
	WallS   float64 `json:"wall_s"`
}

type eventJSON struct {
	Event   string    `json:"event"`
	Results []repJSON `json:"results"`
}

type repJSON struct {
	GapMS      float64  `json:"gap_ms"`
	Lost       int      `json:"lost"`
	Sent       int      `json:"sent"`
	Recovered  bool     `json:"recovered"`
	StallMS    float64  `json:"send_stall_ms"`
	Stalled    bool     `json:"stalled"`
	VIPMovedMS *float64 `json:"vip_moved_ms,omitempty"`
	GARPMS     *float64 `json:"garp_ms,omitempty"`
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func writeDrillJSON(path string, opt lab.Options, all []eventResults, cpu []cpuJSON) error {
	j := drillJSON{Director: opt.Kind.String(), Mode: opt.Mode.String(), Version: opt.Version, AdvertMS: msf(opt.Advert), CPU: cpu}
	for _, e := range all {
		ej := eventJSON{Event: e.Event}
		for _, r := range e.Results {
			rj := repJSON{GapMS: msf(r.Gap), Lost: r.Lost, Sent: r.Sent, Recovered: r.Recovered, StallMS: msf(r.SendStall), Stalled: r.Stalled()}
			if r.VIPMovedOK {
				v := msf(r.VIPMoved)
				rj.VIPMovedMS = &v
			}
			if r.GARPOK {
				v := msf(r.GARP)
				rj.GARPMS = &v
			}
			ej.Results = append(ej.Results, rj)
		}
		j.Events = append(j.Events, ej)
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func (c *cli) labDown(args []string) int {
	fs := flag.NewFlagSet("lab down", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	prefix := fs.String("prefix", lab.DefaultPrefix, "namespace name `prefix` of the lab")
	stateDir := fs.String("state-dir", netlab.DefaultStateDir, "`directory` of the lab's state file")
	if fs.Parse(args) != nil || fs.NArg() > 0 {
		return exitUsage
	}
	path := netlab.StateFile(*stateDir, *prefix)
	st, err := netlab.ReadState(path)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(c.stdout, "no lab is up (no %s)\n", path)
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(c.stderr, "havsd lab down:", err)
		return exitFailure
	}
	if err := netlab.Down(path); err != nil {
		fmt.Fprintln(c.stderr, "havsd lab down:", err)
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "removed lab %s: %d namespaces, %d processes", strings.TrimSuffix(st.Prefix, "-"), len(st.Namespaces), len(st.Procs))
	if st.Dir != "" {
		fmt.Fprintf(c.stdout, " (configs and logs kept in %s)", st.Dir)
	}
	fmt.Fprintln(c.stdout)
	return exitOK
}
