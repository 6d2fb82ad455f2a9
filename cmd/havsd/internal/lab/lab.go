package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/drill"
	"github.com/havsd/havsd/netlab"
)

// DefaultPrefix names the lab's namespaces.
const DefaultPrefix = "hvlab-"

// Options configure a lab.
type Options struct {
	Params
	Prefix   string    // namespace prefix; DefaultPrefix if empty
	StateDir string    // topology state directory; netlab.DefaultStateDir if empty
	Dir      string    // configs and logs; created if missing
	Self     string    // the havsd binary (responders, havsd run, status, handover)
	Log      io.Writer // progress messages
}

// Lab is a running pair of directors with a client and real servers.
type Lab struct {
	opt     Options
	Topo    *netlab.Topology
	VIPs    *drill.VIPWatch
	gwVIPs  *drill.VIPWatch // NAT: the real servers' gateway VIP
	dirs    [2]*netlab.Proc
	started [2]time.Time
	// expect is the director that must hold the VIP before the pair counts
	// as steady: d1, the preferred master, after it (re)started, since it
	// preempts only once its daemon is up and has heard the other.
	expect string
}

// Up builds the topology, writes the configurations, starts responders on
// the real servers and the directors, then both directors. On error it tears
// everything down again.
func Up(ctx context.Context, opt Options) (l *Lab, err error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating lab directory: %w", err)
	}
	spec := netlab.Pair(opt.Prefix, opt.Mode, opt.Reals)
	spec.StateDir = opt.StateDir
	t, err := netlab.Build(ctx, spec)
	if err != nil {
		return nil, err
	}
	l = &Lab{opt: opt, Topo: t, expect: netlab.D1}
	defer func() {
		if err != nil {
			_ = l.Close()
		}
	}()
	if err := t.SetDir(opt.Dir); err != nil {
		return l, err
	}
	if err := l.writeConfigs(); err != nil {
		return l, err
	}
	for r := 0; r < opt.Reals; r++ {
		if err := l.responder(netlab.RealName(r)); err != nil {
			return l, err
		}
	}
	// A responder on each director serves the VIP where IPVS cannot.
	for _, d := range netlab.Directors {
		if err := l.responder(d); err != nil {
			return l, err
		}
	}
	nodes := map[string]string{}
	for _, d := range netlab.Directors {
		nodes[d] = t.NS(d)
	}
	if l.VIPs, err = drill.WatchVIP(netlab.VIP, nodes); err != nil {
		return l, err
	}
	if opt.gateway() {
		if l.gwVIPs, err = drill.WatchVIP(netlab.GwVIP, nodes); err != nil {
			return l, err
		}
	}
	for i := range netlab.Directors {
		if err := l.StartDirector(i); err != nil {
			return l, err
		}
	}
	return l, nil
}

// Close stops everything and removes the topology.
func (l *Lab) Close() error {
	l.VIPs.Close()
	l.gwVIPs.Close()
	return l.Topo.Close()
}

// Dir is the directory holding configs and logs.
func (l *Lab) Dir() string { return l.opt.Dir }

// ConfigPath returns director i's configuration file.
func (l *Lab) ConfigPath(i int) string {
	ext := ".hcl"
	if l.opt.Kind == KindKeepalived {
		ext = ".conf"
	}
	return filepath.Join(l.opt.Dir, fmt.Sprintf("d%d%s", i+1, ext))
}

// Socket returns director i's control socket (havsd only).
func (l *Lab) Socket(i int) string { return filepath.Join(l.opt.Dir, fmt.Sprintf("d%d.sock", i+1)) }

func (l *Lab) logPath(name string) string { return filepath.Join(l.opt.Dir, name+".log") }

func (l *Lab) writeConfigs() error {
	for i := range netlab.Directors {
		src := l.opt.HavsdConfig(i, l.Socket(i))
		if l.opt.Kind == KindKeepalived {
			src = l.opt.KeepalivedConfig(i)
		}
		if err := os.WriteFile(l.ConfigPath(i), []byte(src), 0o644); err != nil {
			return fmt.Errorf("writing lab config: %w", err)
		}
	}
	return nil
}

func (l *Lab) responder(node string) error {
	f, err := os.OpenFile(l.logPath("http-"+node), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening responder log: %w", err)
	}
	defer f.Close()
	_, err = l.Topo.Start(node, "http-"+node, []string{l.opt.Self, ResponderCommand, node}, netlab.ProcOptions{Out: f})
	return err
}

// StartDirector starts director i (0 or 1) with the lab's configuration.
func (l *Lab) StartDirector(i int) error {
	node := netlab.Directors[i]
	var argv []string
	switch l.opt.Kind {
	case KindHavsd:
		argv = []string{l.opt.Self, "run", "-f", l.ConfigPath(i)}
	case KindKeepalived:
		argv = []string{"keepalived", "--vrrp", "--dont-fork", "--log-console", "--log-detail",
			"-f", l.ConfigPath(i), "-p", l.pidFile(i, "keepalived"), "-r", l.pidFile(i, "vrrp")}
	default:
		return fmt.Errorf("starting director: %s", l.opt.Kind)
	}
	f, err := os.OpenFile(l.logPath(node), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening director log: %w", err)
	}
	defer f.Close()
	fmt.Fprintf(f, "=== %s starting %s\n", time.Now().UTC().Format(time.RFC3339Nano), strings.Join(argv, " "))
	p, err := l.Topo.Start(node, l.opt.Kind.String()+"-"+node, argv, netlab.ProcOptions{Out: f})
	if err != nil {
		return err
	}
	l.dirs[i], l.started[i] = p, time.Now()
	return nil
}

func (l *Lab) pidFile(i int, what string) string {
	return filepath.Join(l.opt.Dir, fmt.Sprintf("d%d-%s.pid", i+1, what))
}

// Director returns the process of director i, nil if not running.
func (l *Lab) Director(i int) *netlab.Proc {
	if p := l.dirs[i]; p != nil && !p.Exited() {
		return p
	}
	return nil
}

func index(node string) (int, error) {
	for i, d := range netlab.Directors {
		if d == node {
			return i, nil
		}
	}
	return -1, fmt.Errorf("no director named %q", node)
}

// Ready waits until both directors run, the backup had time to preempt and
// exactly one of them has held the VIP (and in NAT mode the gateway VIP,
// which must follow it) for a while, and returns it.
func (l *Lab) Ready(ctx context.Context) (string, error) {
	settle := l.opt.MasterDown() + 500*time.Millisecond
	stable := max(300*time.Millisecond, 3*l.opt.Advert)
	deadline := time.Now().Add(30*time.Second + 3*settle)
	for {
		for i := range netlab.Directors {
			if l.dirs[i] == nil || l.dirs[i].Exited() {
				return "", fmt.Errorf("director d%d is not running: see %s", i+1, l.logPath(netlab.Directors[i]))
			}
		}
		now := time.Now()
		h := l.VIPs.Holders()
		gw, gwChange := h, time.Time{}
		if l.gwVIPs != nil {
			gw, gwChange = l.gwVIPs.Holders(), l.gwVIPs.LastChange()
		}
		if len(h) == 1 && slices.Equal(gw, h) && (l.expect == "" || h[0] == l.expect) &&
			now.Sub(l.VIPs.LastChange()) >= stable && now.Sub(gwChange) >= stable &&
			now.Sub(l.started[0]) >= settle && now.Sub(l.started[1]) >= settle {
			l.expect = ""
			return h[0], nil
		}
		if now.After(deadline) {
			return "", fmt.Errorf("no steady master: VIP %s held by %v, gateway VIP held by %v", netlab.VIP, h, gw)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// links returns the devices of a director.
func (l *Lab) links() []string {
	if l.opt.gateway() {
		return []string{"eth0", "eth1"}
	}
	return []string{"eth0"}
}

func (l *Lab) setLinks(ctx context.Context, node, state string) error {
	for _, dev := range l.links() {
		if err := l.Topo.IP(ctx, node, "link", "set", dev, state); err != nil {
			return err
		}
	}
	return nil
}

// kill SIGKILLs director i and, for keepalived, its VRRP child first.
func (l *Lab) kill(i int) error {
	p := l.Director(i)
	if p == nil {
		return fmt.Errorf("director d%d is not running", i+1)
	}
	if l.opt.Kind == KindKeepalived {
		if b, err := os.ReadFile(l.pidFile(i, "vrrp")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	return p.Signal(syscall.SIGKILL)
}

// reboot brings a crashed or stopped director back: its leftover VIPs go
// (as after a reboot), its links come up, its daemon starts again.
func (l *Lab) reboot(ctx context.Context, i int) error {
	node := netlab.Directors[i]
	if p := l.dirs[i]; p != nil {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := p.Wait(c)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			p.Stop(time.Second)
		}
		_ = l.Topo.Forget(p)
	}
	if l.opt.Kind == KindKeepalived {
		l.waitVRRPChild(ctx, i)
	}
	for _, a := range []string{netlab.VIP.String() + "/24 dev eth0", netlab.GwVIP.String() + "/24 dev eth1"} {
		_ = l.Topo.IP(ctx, node, append([]string{"addr", "del"}, strings.Fields(a)...)...)
	}
	if err := l.setLinks(ctx, node, "up"); err != nil {
		return err
	}
	l.expectAfterRestore(i)
	return l.StartDirector(i)
}

// expectAfterRestore notes that the preferred master, once back, will take
// the VIP again (preempt is on in every lab config).
func (l *Lab) expectAfterRestore(i int) {
	if i == 0 {
		l.expect = netlab.D1
	}
}

// waitVRRPChild waits for keepalived's VRRP child of director i to exit.
func (l *Lab) waitVRRPChild(ctx context.Context, i int) {
	b, err := os.ReadFile(l.pidFile(i, "vrrp"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// Status returns what `havsd status` says about director i, or for
// keepalived whether it holds the VIP.
func (l *Lab) Status(ctx context.Context, i int) string {
	if l.opt.Kind == KindHavsd {
		out, err := exec.CommandContext(ctx, l.opt.Self, "status", "-s", l.Socket(i)).CombinedOutput()
		if err != nil {
			return fmt.Sprintf("%s(havsd status: %v)\n", out, err)
		}
		return string(out)
	}
	for _, h := range l.VIPs.Holders() {
		if h == netlab.Directors[i] {
			return "keepalived: MASTER, holds " + netlab.VIP.String() + "\n"
		}
	}
	return "keepalived: BACKUP\n"
}

// CPU returns the CPU time director i's running daemon has used (for
// keepalived, its VRRP child included) and how long it has been running.
func (l *Lab) CPU(i int) (cpu, wall time.Duration, err error) {
	p := l.Director(i)
	if p == nil {
		return 0, 0, fmt.Errorf("director d%d is not running", i+1)
	}
	cpu, err = netlab.CPUTime(p.PID)
	if err != nil {
		return 0, 0, err
	}
	if l.opt.Kind == KindKeepalived {
		if b, rerr := os.ReadFile(l.pidFile(i, "vrrp")); rerr == nil {
			if pid, aerr := strconv.Atoi(strings.TrimSpace(string(b))); aerr == nil {
				if c, cerr := netlab.CPUTime(pid); cerr == nil {
					cpu += c
				}
			}
		}
	}
	return cpu, time.Since(l.started[i]), nil
}
