package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/havsd/havsd/bgp"
	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/cmd/havsd/internal/control"
	"github.com/havsd/havsd/cmd/havsd/internal/metrics"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/director"
	"github.com/havsd/havsd/internal/logsink"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/nft"
	"github.com/havsd/havsd/lvs/sysctl"
	"github.com/havsd/havsd/vrrp"
)

const defaultConfig = "/etc/havsd/havsd.hcl"

// loadConfig loads and validates path, rendering diagnostics as text.
func loadConfig(path string) director.Loaded {
	cfg, src, diags := conf.Load(path)
	var buf bytes.Buffer
	if len(diags) > 0 && src != nil {
		_ = src.WriteDiagnostics(&buf, diags, false)
	} else if len(diags) > 0 {
		buf.WriteString(diags.Error() + "\n")
	}
	l := director.Loaded{Config: cfg, Diagnostics: buf.String()}
	if diags.HasErrors() || cfg == nil {
		l.Err = fmt.Errorf("%s is not valid: %d error(s)", path, max(len(diags.Errs()), 1))
		l.Config = nil
	}
	return l
}

// newLogger builds the slog logger the config and flags ask for.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (c *cli) run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	file := fs.String("f", defaultConfig, "configuration `file`")
	logFormat := fs.String("log-format", "", "log format, text or json (default: from the config, else text)")
	logLevel := fs.String("log-level", "", "log level: debug, info, warn, error (default: from the config, else info)")
	if fs.Parse(args) != nil {
		return exitUsage
	}
	l := loadConfig(*file)
	if l.Err != nil {
		fmt.Fprint(c.stderr, l.Diagnostics)
		fmt.Fprintf(c.stderr, "havsd run: %v\n", l.Err)
		return exitBadConfig
	}
	cfg := l.Config
	format, level := first(*logFormat, cfg.Global.LogFormat, "text"), first(*logLevel, cfg.Global.LogLevel, "info")
	// The log goes through a queue: a slow reader (journald, a pipe, a
	// throttled disk) must not stall a VRRP loop that logs a transition.
	sink := logsink.New(c.stderr, 0)
	defer sink.Close(2 * time.Second)
	log := newLogger(sink, format, level)
	if l.Diagnostics != "" {
		director.LogDiagnostics(log, "configuration", l.Diagnostics)
	}
	if err := c.serve(ctx, *file, cfg, log, sink.Dropped); err != nil {
		log.Error("havsd stopped", "err", err)
		return exitFailure
	}
	return exitOK
}

func first(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// serve runs the director with its control socket, metrics and signals.
// logDropped counts the log lines a slow reader made it drop.
func (c *cli) serve(ctx context.Context, file string, cfg *conf.Config, log *slog.Logger, logDropped func() uint64) error {
	sock := first(cfg.Global.ControlSocket, defaultSocket)
	var d *director.Director
	var nt *notifier
	ctl := control.NewServer(sock, func(ctx context.Context, req control.Request) (any, error) {
		return handle(ctx, d, nt, req)
	}, log)
	ln, err := ctl.Listen()
	if err != nil {
		return err
	}

	// A predecessor's VIPs left behind are each instance's to remove:
	// an instance reconciles its VIPs with the kernel as it starts.

	var m *metrics.Metrics
	sched := checks.NewScheduler(checks.Options{Logger: log, OnResult: func(id checks.ID, k checks.Kind, lat time.Duration, err error) {
		if m != nil {
			m.ObserveCheck(k.String(), lat, err)
		}
	}})
	checkSysctls(cfg, log)
	vrrps := director.NewVRRPs(log)
	if p := cfg.Global.NotifyFIFO; p != "" {
		fifo, err := vrrp.OpenNotifyFIFO(p, log)
		if err != nil {
			return err
		}
		defer fifo.Close()
		vrrps.FIFO = fifo
	}
	deps := director.Deps{
		Load: func() director.Loaded {
			l := loadConfig(file)
			if l.Err == nil {
				checkSysctls(l.Config, log)
			}
			return l
		},
		NewVRRP:   vrrps.New,
		Bind:      vrrps.Bind,
		NewHealth: func(ch chan<- director.HealthChange) director.Health { return director.NewHealth(sched, ch) },
		NewBGP:    func(c bgp.Config) (director.Speaker, error) { return bgp.New(c, log) },
		// The VIPs of services announced by BGP live on lo, ARP suppressed.
		Loopback: director.NewLoopbackVIPs(log, cfg.Global.ReconcileInterval, cfg.Global.SetSysctls),
		Links:    vrrp.NetlinkWatcher{},
	}
	deps.IPVS, deps.Sync = openIPVS(cfg, log)
	nt = newNotifier(func(ctx context.Context) (director.Status, error) { return d.Status(ctx) }, log)
	d = director.New(cfg, file, deps, log)
	m = metrics.New(d.Status)
	m.WatchChecks(sched.Stats)
	m.WatchLogDrops(logDropped)

	// What serve starts it stops and waits for: the control socket, the
	// metrics listener, the signal handler and the notifier end with ctx.
	var loops sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer loops.Wait()
	defer cancel()
	loops.Go(func() {
		if err := ctl.Serve(ctx, ln); err != nil {
			log.Error("control socket", "component", "control", "err", err)
		}
	})
	if addr := cfg.Global.MetricsListen; addr != "" {
		loops.Go(func() {
			if err := m.Serve(ctx, addr, log); err != nil {
				log.Error("metrics listener failed; continuing without metrics", "component", "metrics", "addr", addr, "err", err)
			}
		})
	}
	loops.Go(func() { c.signals(ctx, d, nt, log) })

	log.Info("havsd started", "config", file, "instances", len(cfg.Instances), "services", len(cfg.Services), "control_socket", sock)
	nt.ready()
	debug.FreeOSMemory() // the first load's garbage, as after each reload (notify.go)
	loops.Go(func() { nt.run(ctx) })
	err = d.Run(ctx)
	nt.stopping()
	return err
}

// signals turns SIGHUP into a reload and SIGUSR1 into a state dump in the log.
func (c *cli) signals(ctx context.Context, d *director.Director, nt *notifier, log *slog.Logger) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-ch:
			switch s {
			case syscall.SIGHUP:
				go func() {
					// Concurrent waits share one load: a burst of
					// SIGHUPs reloads once or twice.
					_, _ = nt.reload(ctx, d)
				}()
			case syscall.SIGUSR1:
				ds, err := d.Dump(ctx)
				if err != nil {
					log.Error("state dump", "err", err)
					continue
				}
				director.LogDump(log, ds)
			}
		}
	}
}

// handle answers one control request.
func handle(ctx context.Context, d *director.Director, nt *notifier, req control.Request) (any, error) {
	switch req.Command {
	case "status":
		return d.Status(ctx)
	case "dump":
		return d.Dump(ctx)
	case "reload":
		st, err := nt.reload(ctx, d)
		if err != nil {
			return nil, err
		}
		if !st.OK {
			return st, errors.New("reload rejected: the running configuration is unchanged")
		}
		return st, nil
	case "resume":
		return d.Resume(ctx, req.Instance)
	case "handover":
		return d.Handover(ctx, req.Instance)
	case "drain":
		return drainRequest(ctx, d, req) // drain.go
	case "undrain":
		return d.Undrain(ctx)
	case "debug-pprof", "debug-runtime":
		return debugAnswer(req) // debug.go
	}
	return nil, fmt.Errorf("unknown command %q", req.Command)
}

// openIPVS opens the kernel table, or explains in one line why there is
// none, and the sync daemons' reconciler over the same table (nil without
// IPVS).
func openIPVS(cfg *conf.Config, log *slog.Logger) (director.IPVS, director.SyncDaemons) {
	t, err := lvs.OpenIPVS("")
	if err != nil {
		log.Warn("IPVS is not available; running VRRP and health checks only", "component", "ipvs", "err", err)
		return director.NoIPVS(err), nil
	}
	if g := cfg.Global; g.TimeoutTCP > 0 || g.TimeoutTCPFin > 0 || g.TimeoutUDP > 0 {
		if err := t.SetTimeouts(g.TimeoutTCP, g.TimeoutTCPFin, g.TimeoutUDP); err != nil {
			log.Error("IPVS connection timeouts not set; keeping the kernel's", "component", "ipvs", "err", err)
		}
	}
	r := lvs.NewReconciler(t, lvs.ReconcilerOptions{
		Logger:       log,
		Interval:     cfg.Global.ReconcileInterval,
		Filter:       nft.New(nft.Options{}),
		PruneForeign: cfg.Global.PruneForeign,
	})
	sync := lvs.NewSyncReconciler(t, lvs.SyncOptions{Logger: log, Interval: cfg.Global.ReconcileInterval})
	return director.NewIPVS(r), director.NewSyncDaemons(sync, log)
}

// checkSysctls reports (and, if the config allows, sets) the kernel settings
// the configured forwarding methods need.
func checkSysctls(cfg *conf.Config, log *slog.Logger) {
	all := director.Configured(cfg)
	for _, f := range sysctl.Check("", sysctl.Needs(all.Desired.Services, all.Desired.SNAT), cfg.Global.SetSysctls) {
		switch {
		case !f.OK():
			log.Warn("kernel setting", "component", "sysctl", "finding", f.String())
		case f.Changed:
			log.Info("kernel setting", "component", "sysctl", "finding", f.String())
		}
	}
}
