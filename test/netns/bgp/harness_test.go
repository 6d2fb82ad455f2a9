// Package bgp tests havsd's BGP mode against a real router: BIRD 2 in a
// router namespace peering with havsd directors in theirs (netlab's ECMP
// layout), the router's kernel route to the VIP read through netlink.
package bgp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/need"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// havsd builds the binary under test once per test binary.
func havsd(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hv-bg-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "havsd")
		if out, err := exec.Command("go", "build", "-o", binary, "github.com/havsd/havsd/cmd/havsd").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building havsd: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// requireLab skips (fails in CI) without root, iproute2 and BIRD 2.
func requireLab(t *testing.T) {
	t.Helper()
	need.Root(t, "builds network namespaces")
	need.Binaries(t, "ip", "bird", "birdc")
}

// lab is the ECMP layout with BIRD on the router and havsd on each director.
type lab struct {
	t    *testing.T
	bin  string
	dir  string
	topo *netlab.Topology
	bird *netlab.Bird
	fib  *netlab.FIBWatch
	cfg  []netlab.ECMPHavsd
	dirs []*netlab.Proc
}

// labOptions shape a test lab.
type labOptions struct {
	directors int
	hold      time.Duration
	extra     []netlab.ECMPNeighbor // more neighbours for every director
	nodes     []netlab.Node         // more nodes on the core network
}

func newLab(t *testing.T, o labOptions) *lab {
	t.Helper()
	requireLab(t)
	l := &lab{t: t, bin: havsd(t), dir: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spec := netlab.ECMP(netlab.RandomPrefix("hv-bg"), netlab.ECMPOptions{Directors: o.directors, Reals: 2, Sources: 16, HeaderHash: true})
	spec.StateDir = t.TempDir()
	spec.Nodes = append(spec.Nodes, o.nodes...)
	topo, err := netlab.Build(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	l.topo = topo
	t.Cleanup(func() {
		if t.Failed() {
			l.dumpLogs()
		}
		l.fib.Close()
		if err := topo.Close(); err != nil {
			t.Errorf("tearing the lab down: %v", err)
		}
	})
	if l.fib, err = topo.WatchFIB(netlab.ECMPRouter, vipPrefix); err != nil {
		t.Fatal(err)
	}
	if l.bird, err = topo.StartBird(ctx, netlab.ECMPRouter, l.dir, netlab.ECMPBird(o.directors, o.hold), l.logFile("bird")); err != nil {
		t.Fatal(err)
	}
	for r := 0; r < 2; r++ {
		l.start(netlab.RealName(r), "http-"+netlab.RealName(r), l.bin, "lab-responder", netlab.RealName(r))
	}
	for i := 0; i < o.directors; i++ {
		name := netlab.ECMPDirectorName(i)
		// Without IPVS the director itself answers for the VIP.
		l.start(name, "http-"+name, l.bin, "lab-responder", name)
		c := netlab.ECMPHavsd{Director: i, Socket: l.socket(i), HoldTime: o.hold, CheckInterval: 200 * time.Millisecond, Reals: 2, Extra: o.extra}
		if err := os.WriteFile(l.config(i), []byte(c.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		l.cfg = append(l.cfg, c)
		l.dirs = append(l.dirs, nil)
		l.startDirector(i)
	}
	return l
}

var vipPrefix = netip.PrefixFrom(netlab.ECMPVIP, 32)

func (l *lab) socket(i int) string { return filepath.Join(l.dir, netlab.ECMPDirectorName(i)+".sock") }
func (l *lab) config(i int) string { return filepath.Join(l.dir, netlab.ECMPDirectorName(i)+".hcl") }
func (l *lab) logPath(name string) string {
	return filepath.Join(l.dir, name+".log")
}

func (l *lab) logFile(name string) *os.File {
	f, err := os.OpenFile(l.logPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { f.Close() })
	return f
}

func (l *lab) start(node, name string, argv ...string) *netlab.Proc {
	l.t.Helper()
	p, err := l.topo.Start(node, name, argv, netlab.ProcOptions{Out: l.logFile(name)})
	if err != nil {
		l.t.Fatal(err)
	}
	return p
}

// startDirector (re)starts director i's havsd.
func (l *lab) startDirector(i int) {
	l.t.Helper()
	if p := l.dirs[i]; p != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := p.Wait(ctx); ctx.Err() != nil {
			l.t.Fatalf("director %d did not exit: %v", i+1, err)
		}
		cancel()
		_ = l.topo.Forget(p)
	}
	name := netlab.ECMPDirectorName(i)
	l.dirs[i] = l.start(name, name, l.bin, "run", "-f", l.config(i))
}

// ctl runs a havsd command against director i's control socket.
func (l *lab) ctl(i int, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	argv := append([]string{args[0], "-s", l.socket(i)}, args[1:]...)
	out, err := exec.CommandContext(ctx, l.bin, argv...).CombinedOutput()
	return string(out), err
}

func (l *lab) log(name string) string {
	b, _ := os.ReadFile(l.logPath(name))
	return string(b)
}

func (l *lab) dumpLogs() {
	for _, n := range []string{"bird", "d1", "d2", "d3"} {
		if s := l.log(n); s != "" {
			l.t.Logf("--- %s log (last lines)\n%s", n, tail(s, 25))
		}
	}
	out, _ := l.topo.Exec(context.Background(), netlab.ECMPRouter, "ip", "route", "show")
	l.t.Logf("--- router's routes\n%s", out)
	if ps, err := l.bird.Cmd(context.Background(), "show", "protocols", "all"); err == nil {
		l.t.Logf("--- birdc show protocols all\n%s", tail(ps, 80))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// directorIPs are the core addresses of directors idx.
func directorIPs(idx ...int) []netip.Addr {
	var out []netip.Addr
	for _, i := range idx {
		out = append(out, netlab.ECMPDirectorIP(i))
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// waitHops waits for the router's route to the VIP to have exactly want as
// next hops, and returns when that change was seen.
func (l *lab) waitHops(timeout time.Duration, want []netip.Addr, what string) time.Time {
	l.t.Helper()
	at, ok := l.fib.Wait(timeout, func(nh []netip.Addr) bool { return slices.Equal(nh, want) })
	if !ok {
		l.t.Fatalf("timed out after %v waiting for %s: the router's route to %s has next hops %v, want %v", timeout, what, netlab.ECMPVIP, l.fib.NextHops(), want)
	}
	return at
}

// ipRoute is `ip route show VIP` in the router.
func (l *lab) ipRoute() string {
	out, err := l.topo.Exec(context.Background(), netlab.ECMPRouter, "ip", "route", "show", vipPrefix.String())
	if err != nil {
		l.t.Fatal(err)
	}
	return string(out)
}

// dial opens a connection to the VIP from src in the client namespace.
func (l *lab) dial(src netip.Addr) (net.Conn, error) {
	var c net.Conn
	err := l.topo.Do(netlab.ECMPClient, func() (err error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src.AsSlice()}, Timeout: time.Second}
		c, err = d.Dial("tcp", netip.AddrPortFrom(netlab.ECMPVIP, 80).String())
		return err
	})
	return c, err
}

// flow is one keep-alive HTTP connection to the VIP.
type flow struct {
	c net.Conn
	r *bufio.Reader
}

func (l *lab) openFlow(src netip.Addr) (*flow, error) {
	c, err := l.dial(src)
	if err != nil {
		return nil, err
	}
	l.t.Cleanup(func() { c.Close() })
	return &flow{c: c, r: bufio.NewReader(c)}, nil
}

// get sends one request on the flow and returns who answered.
func (f *flow) get() (string, error) {
	_ = f.c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(f.c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", netlab.ECMPVIP); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(f.r, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(resp.Status)
	}
	return strings.TrimSpace(string(b)), nil
}

// getOnce opens a connection from src, asks who serves it and closes it.
func (l *lab) getOnce(src netip.Addr) (string, error) {
	f, err := l.openFlow(src)
	if err != nil {
		return "", err
	}
	defer f.c.Close()
	return f.get()
}

// sources are the client's addresses.
func sources(n int) []netip.Addr {
	out := []netip.Addr{netlab.ECMPClientIP}
	for i := 0; i < n; i++ {
		out = append(out, netlab.ECMPSource(i))
	}
	return out
}
