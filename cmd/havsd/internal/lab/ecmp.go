package lab

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/havsd/havsd/netlab"
)

// DefaultECMPPrefix names the ECMP lab's namespaces.
const DefaultECMPPrefix = "hvecmp-"

// ECMPOptions configure an ECMP lab.
type ECMPOptions struct {
	ECMPParams
	Prefix   string    // namespace prefix; DefaultECMPPrefix if empty
	StateDir string    // topology state directory
	Dir      string    // configs and logs; created if missing
	Self     string    // the havsd binary
	Log      io.Writer // progress messages
}

// ECMPLab is a router running BIRD 2, directors announcing one VIP to it
// over BGP, real servers and a client.
type ECMPLab struct {
	opt  ECMPOptions
	Topo *netlab.Topology
	Bird *netlab.Bird
	FIB  *netlab.FIBWatch // the router's route to the VIP
	dirs []*netlab.Proc
}

// VIPPrefix is the announced route.
func VIPPrefix() netip.Prefix { return netip.PrefixFrom(netlab.ECMPVIP, 32) }

// UpECMP builds the topology, starts BIRD on the router, responders on the
// real servers and on the directors (which answer for the VIP where the
// kernel has no IPVS), then the directors. On error it tears it all down.
func UpECMP(ctx context.Context, opt ECMPOptions) (l *ECMPLab, err error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.Prefix == "" {
		opt.Prefix = DefaultECMPPrefix
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating lab directory: %w", err)
	}
	spec := netlab.ECMP(opt.Prefix, opt.topo(false))
	spec.StateDir = opt.StateDir
	t, err := netlab.Build(ctx, spec)
	if err != nil {
		return nil, err
	}
	l = &ECMPLab{opt: opt, Topo: t, dirs: make([]*netlab.Proc, opt.Directors)}
	defer func() {
		if err != nil {
			_ = l.Close()
		}
	}()
	if err := t.SetDir(opt.Dir); err != nil {
		return l, err
	}
	if l.FIB, err = t.WatchFIB(netlab.ECMPRouter, VIPPrefix()); err != nil {
		return l, err
	}
	blog, err := l.openLog("bird-" + netlab.ECMPRouter)
	if err != nil {
		return l, err
	}
	defer blog.Close()
	if l.Bird, err = t.StartBird(ctx, netlab.ECMPRouter, opt.Dir, opt.Bird(), blog); err != nil {
		return l, err
	}
	for r := 0; r < opt.Reals; r++ {
		if err := l.responder(netlab.RealName(r)); err != nil {
			return l, err
		}
	}
	for i := 0; i < opt.Directors; i++ {
		if err := l.responder(netlab.ECMPDirectorName(i)); err != nil {
			return l, err
		}
		if err := os.WriteFile(l.ConfigPath(i), []byte(opt.ECMPConfig(i, l.Socket(i))), 0o644); err != nil {
			return l, fmt.Errorf("writing lab config: %w", err)
		}
	}
	for i := 0; i < opt.Directors; i++ {
		if err := l.StartDirector(i); err != nil {
			return l, err
		}
	}
	return l, nil
}

// Close stops everything and removes the topology.
func (l *ECMPLab) Close() error {
	l.FIB.Close()
	return l.Topo.Close()
}

// Dir is the directory holding configs and logs.
func (l *ECMPLab) Dir() string { return l.opt.Dir }

// Directors is the number of directors.
func (l *ECMPLab) Directors() int { return l.opt.Directors }

// ConfigPath returns director i's configuration file.
func (l *ECMPLab) ConfigPath(i int) string {
	return filepath.Join(l.opt.Dir, netlab.ECMPDirectorName(i)+".hcl")
}

// Socket returns director i's control socket.
func (l *ECMPLab) Socket(i int) string {
	return filepath.Join(l.opt.Dir, netlab.ECMPDirectorName(i)+".sock")
}

// LogPath returns the log file of a node's program.
func (l *ECMPLab) LogPath(name string) string { return filepath.Join(l.opt.Dir, name+".log") }

func (l *ECMPLab) openLog(name string) (*os.File, error) {
	f, err := os.OpenFile(l.LogPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lab log: %w", err)
	}
	return f, nil
}

func (l *ECMPLab) responder(node string) error {
	f, err := l.openLog("http-" + node)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = l.Topo.Start(node, "http-"+node, []string{l.opt.Self, ResponderCommand, node}, netlab.ProcOptions{Out: f})
	return err
}

// StartDirector starts director i's havsd.
func (l *ECMPLab) StartDirector(i int) error {
	node := netlab.ECMPDirectorName(i)
	argv := []string{l.opt.Self, "run", "-f", l.ConfigPath(i)}
	f, err := l.openLog(node)
	if err != nil {
		return err
	}
	defer f.Close()
	p, err := l.Topo.Start(node, "havsd-"+node, argv, netlab.ProcOptions{Out: f})
	if err != nil {
		return err
	}
	l.dirs[i] = p
	return nil
}

// Director returns director i's running havsd, nil if it is not running.
func (l *ECMPLab) Director(i int) *netlab.Proc {
	if p := l.dirs[i]; p != nil && !p.Exited() {
		return p
	}
	return nil
}

// Kill SIGKILLs director i's havsd (its kernel and the responder on it
// go on: only the daemon and its BGP sessions die).
func (l *ECMPLab) Kill(i int) error { return l.signal(i, syscall.SIGKILL) }

// Crash takes director i's box away: its link drops and its havsd is
// SIGKILLed, so nothing closes its BGP session and the router's hold timer
// has to notice.
func (l *ECMPLab) Crash(ctx context.Context, i int) error {
	if err := l.Topo.IP(ctx, netlab.ECMPDirectorName(i), "link", "set", "eth0", "down"); err != nil {
		return err
	}
	return l.Kill(i)
}

// Reboot brings a crashed director back: link up, default route, havsd.
func (l *ECMPLab) Reboot(ctx context.Context, i int) error {
	node := netlab.ECMPDirectorName(i)
	if err := l.Topo.IP(ctx, node, "link", "set", "eth0", "up"); err != nil {
		return err
	}
	if err := l.Topo.IP(ctx, node, "route", "replace", "default", "via", netlab.ECMPRouterIP.String()); err != nil {
		return err
	}
	return l.Restart(ctx, i)
}

// Stop sends SIGTERM to director i's havsd.
func (l *ECMPLab) Stop(i int) error { return l.signal(i, syscall.SIGTERM) }

func (l *ECMPLab) signal(i int, sig syscall.Signal) error {
	p := l.Director(i)
	if p == nil {
		return fmt.Errorf("director %s is not running", netlab.ECMPDirectorName(i))
	}
	return p.Signal(sig)
}

// Restart waits for director i's stopped havsd to exit (SIGKILL after
// 10 s) and starts it again.
func (l *ECMPLab) Restart(ctx context.Context, i int) error {
	if p := l.dirs[i]; p != nil {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := p.Wait(c)
		cancel()
		if err != nil && c.Err() != nil {
			p.Stop(time.Second)
		}
		_ = l.Topo.Forget(p)
	}
	return l.StartDirector(i)
}

// Havsd runs a havsd subcommand against director i's control socket
// (status, drain, undrain, ...).
func (l *ECMPLab) Havsd(ctx context.Context, i int, cmd string, args ...string) (string, error) {
	argv := append([]string{cmd, "-s", l.Socket(i)}, args...)
	out, err := exec.CommandContext(ctx, l.opt.Self, argv...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("havsd %s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// FailReals makes every real server unreachable from director i alone (an
// unreachable route to each in its namespace): its checks fail, it loses
// quorum, while the other directors still reach them.
func (l *ECMPLab) FailReals(ctx context.Context, i int) error {
	return l.realRoutes(ctx, i, "add")
}

// HealReals undoes FailReals.
func (l *ECMPLab) HealReals(ctx context.Context, i int) error {
	return l.realRoutes(ctx, i, "del")
}

func (l *ECMPLab) realRoutes(ctx context.Context, i int, op string) error {
	for r := 0; r < l.opt.Reals; r++ {
		if err := l.Topo.IP(ctx, netlab.ECMPDirectorName(i), "route", op, "prohibit", netlab.ECMPRealIP(r).String()+"/32"); err != nil {
			return err
		}
	}
	return nil
}

// AllNextHops is the route with every director.
func (l *ECMPLab) AllNextHops() []netip.Addr {
	var out []netip.Addr
	for i := 0; i < l.opt.Directors; i++ {
		out = append(out, netlab.ECMPDirectorIP(i))
	}
	return out
}

// Ready waits until BIRD has established a session with every director
// and its kernel holds one route to the VIP with every director as next
// hop.
func (l *ECMPLab) Ready(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	all := l.AllNextHops()
	for {
		for i := range l.dirs {
			if l.Director(i) == nil {
				return fmt.Errorf("director %s is not running: see %s", netlab.ECMPDirectorName(i), l.LogPath(netlab.ECMPDirectorName(i)))
			}
		}
		if slices.Equal(l.FIB.NextHops(), all) {
			if ps, err := l.Bird.Protocols(ctx); err == nil && established(ps) == len(all) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			ps, _ := l.Bird.Protocols(ctx)
			return fmt.Errorf("the router's route to %s has next hops %v (want %v); BIRD's sessions: %v", netlab.ECMPVIP, l.FIB.NextHops(), all, ps)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func established(ps map[string]string) int {
	n := 0
	for _, s := range ps {
		if s == "Established" {
			n++
		}
	}
	return n
}

// ClientNS is the namespace of the lab's client.
func (l *ECMPLab) ClientNS() string { return l.Topo.NS(netlab.ECMPClient) }

// Sources are the client's source addresses, its primary one first.
func (l *ECMPLab) Sources() []netip.Addr {
	out := []netip.Addr{netlab.ECMPClientIP}
	for i := 0; i < l.opt.Sources; i++ {
		out = append(out, netlab.ECMPSource(i))
	}
	return out
}

// HoldTime is the BGP hold time of the lab's sessions.
func (l *ECMPLab) HoldTime() time.Duration { return l.opt.HoldTime }

// QuorumLost returns when director i's log (JSON) last said after from
// that a service lost quorum.
func (l *ECMPLab) QuorumLost(i int, from time.Time) (time.Time, bool) {
	b, err := os.ReadFile(l.LogPath(netlab.ECMPDirectorName(i)))
	if err != nil {
		return time.Time{}, false
	}
	return netlab.QuorumLostIn(b, from)
}
