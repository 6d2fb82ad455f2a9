// Package vrnet builds small VRRP labs in network namespaces for the vrrp
// tests: nodes joined by a bridge that lives in a namespace of its own,
// directors as child processes, keepalived beside them.
package vrnet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/havsd/havsd/test/need"
)

// Require skips the test unless it runs as root with the given binaries;
// in CI (CI=true) it fails instead.
func Require(t *testing.T, bins ...string) {
	t.Helper()
	need.Root(t, "builds network namespaces")
	for _, b := range append([]string{"ip"}, bins...) {
		if _, err := exec.LookPath(b); err != nil {
			need.Missing(t, "needs the "+b+" binary (apt-get install -y "+pkgOf(b)+")")
		}
	}
}

func pkgOf(bin string) string {
	switch bin {
	case "ip":
		return "iproute2"
	case "ping":
		return "iputils-ping"
	}
	return bin
}

// Lab is a bridge (br0 in its own namespace) and the nodes on it.
type Lab struct {
	t      *testing.T
	ID     string
	Bridge string // namespace of the bridge
	n      int
}

// Node is a namespace with an eth0 plugged into the lab's bridge.
type Node struct {
	lab  *Lab
	Name string
	NS   string // namespace name
	Port string // bridge-side veth in the bridge namespace
	Addr string // CIDR on eth0
}

// NewLab creates the bridge namespace; everything is removed on cleanup.
func NewLab(t *testing.T) *Lab {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	l := &Lab{t: t, ID: hex.EncodeToString(b)}
	l.Bridge = l.nsName("br")
	l.addNS(l.Bridge)
	l.MustIP(l.Bridge, "link", "add", "br0", "type", "bridge", "forward_delay", "0")
	l.MustIP(l.Bridge, "link", "set", "br0", "up")
	return l
}

func (l *Lab) nsName(s string) string { return "hv-vr-" + l.ID + "-" + s }

func (l *Lab) addNS(name string) {
	l.t.Helper()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		l.t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	l.t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			l.t.Logf("ip netns del %s: %v: %s", name, err, out)
		}
	})
}

// IP runs `ip -n NS args...`.
func (l *Lab) IP(ns string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip -n %s %s: %w: %s", ns, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// MustIP is IP failing the test on error.
func (l *Lab) MustIP(ns string, args ...string) string {
	l.t.Helper()
	out, err := l.IP(ns, args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// AddNode creates a namespace with eth0 (address cidr, IPv6 DAD off) on the bridge.
func (l *Lab) AddNode(name, cidr string) *Node {
	l.t.Helper()
	l.n++
	n := &Node{lab: l, Name: name, NS: l.nsName(name), Port: fmt.Sprintf("p%d", l.n), Addr: cidr}
	l.addNS(n.NS)
	l.MustIP(l.Bridge, "link", "add", n.Port, "type", "veth", "peer", "name", "eth0", "netns", n.NS)
	l.MustIP(l.Bridge, "link", "set", n.Port, "master", "br0", "up")
	_ = n.Sysctl("net/ipv6/conf/eth0/accept_dad", "0")
	_ = n.Sysctl("net/ipv6/conf/all/accept_dad", "0")
	_ = n.Sysctl("net/ipv6/conf/default/accept_dad", "0")
	l.MustIP(n.NS, "link", "set", "lo", "up")
	l.MustIP(n.NS, "link", "set", "eth0", "up")
	if cidr != "" {
		l.MustIP(n.NS, "addr", "add", cidr, "dev", "eth0")
	}
	return n
}

// SetPort sets the node's bridge port up or down (cutting it off the lab).
func (l *Lab) SetPort(n *Node, up bool) {
	l.t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	l.MustIP(l.Bridge, "link", "set", n.Port, state)
}

// Exec returns a command running inside the node's namespace.
func (n *Node) Exec(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.NS, name}, args...)...)
}

// Do runs f with the calling goroutine's thread inside the node's namespace.
func (n *Node) Do(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	h, err := netns.GetFromName(n.NS)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		return err
	}
	defer func() { _ = netns.Set(orig) }()
	return f()
}

// Sysctl writes a value under /proc/sys from inside the namespace.
func (n *Node) Sysctl(key, value string) error {
	return n.Do(func() error { return os.WriteFile("/proc/sys/"+key, []byte(value), 0o644) })
}

// HasAddr reports whether eth0 holds addr (no prefix).
func (n *Node) HasAddr(addr string) bool {
	out, err := n.lab.IP(n.NS, "-br", "addr", "show", "dev", "eth0")
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(out) {
		if strings.SplitN(f, "/", 2)[0] == addr {
			return true
		}
	}
	return false
}

// Dial connects from inside the node to addr (TCP) and returns the first
// line the server sends.
func (n *Node) Dial(addr string, timeout time.Duration) (string, error) {
	var line string
	err := n.Do(func() error {
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		b := make([]byte, 64)
		k, err := c.Read(b)
		line = strings.TrimSpace(string(b[:k]))
		return err
	})
	return line, err
}

// WaitFor polls cond every 5 ms until it holds or timeout passes, and
// returns how long it took.
func WaitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}
