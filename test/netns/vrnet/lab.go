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
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/need"
	"github.com/havsd/havsd/test/poll"
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

// Lab is a bridge (br0 in the switch namespace) and the nodes on it, a
// netlab topology built node by node.
type Lab struct {
	t      *testing.T
	ID     string
	Bridge string // namespace of the bridge
	topo   *netlab.Topology
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
	topo, err := netlab.Build(context.Background(), netlab.Spec{Prefix: "vr" + l.ID + "-", StateDir: t.TempDir(), Nets: []string{"br0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := topo.Close(); err != nil {
			t.Logf("removing the lab: %v", err)
		}
	})
	l.topo, l.Bridge = topo, topo.NS(netlab.SwitchNode)
	return l
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

// AddNode creates a namespace with eth0 (address cidr, IPv6 DAD off) on the
// bridge. name is at most 6 characters.
func (l *Lab) AddNode(name, cidr string) *Node {
	l.t.Helper()
	link := netlab.Link{Net: "br0", Dev: "eth0"}
	if cidr != "" {
		link.Addrs = []string{cidr}
	}
	err := l.topo.AddNode(context.Background(), netlab.Node{Name: name, Links: []netlab.Link{link}, Sysctls: map[string]string{
		"net.ipv6.conf.eth0.accept_dad": "0", "net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0",
	}})
	if err != nil {
		l.t.Fatal(err)
	}
	return &Node{lab: l, Name: name, NS: l.topo.NS(name), Port: l.topo.Port(name, "eth0"), Addr: cidr}
}

// SetPort plugs the node's bridge port in or out: out, the node is cut off
// the lab while its eth0 keeps its carrier (a split brain, not a link
// failure that would put a tracking instance in FAULT).
func (l *Lab) SetPort(n *Node, in bool) {
	l.t.Helper()
	if in {
		l.MustIP(l.Bridge, "link", "set", n.Port, "master", "br0")
		return
	}
	l.MustIP(l.Bridge, "link", "set", n.Port, "nomaster")
}

// Exec returns a command running inside the node's namespace.
func (n *Node) Exec(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.NS, name}, args...)...)
}

// Do runs f on a thread inside the node's namespace.
func (n *Node) Do(f func() error) error { return netlab.InNS(n.NS, f) }

// Sysctl writes a value under /proc/sys ("net/ipv4/...") inside the namespace.
func (n *Node) Sysctl(key, value string) error {
	return n.lab.topo.Sysctl(context.Background(), n.Name, key, value)
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

// WaitFor polls cond until it holds or timeout passes, and returns how
// long it took.
func WaitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	poll.Until(t, timeout, what, cond)
	return time.Since(start)
}
