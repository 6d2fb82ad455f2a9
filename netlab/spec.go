package netlab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
)

// DefaultStateDir is where state files go when a Spec names no directory.
const DefaultStateDir = "/run/havsd-lab"

// maxName is the longest interface or namespace name we create (IFNAMSIZ-1).
const maxName = 15

// Spec describes a topology: the bridges and the nodes attached to them.
type Spec struct {
	// Prefix starts every namespace name, e.g. "hvlab-"; it must be unique
	// on the host so that two topologies can coexist.
	Prefix string
	// StateDir holds the state file; empty means DefaultStateDir.
	StateDir string
	// Nets are the bridges, created in the switch namespace.
	Nets []string
	// Nodes are the namespaces attached to the bridges.
	Nodes []Node
}

// Node is one namespace: a host of the topology.
type Node struct {
	Name    string            // short role name, e.g. "cli", "d1"
	Links   []Link            // interfaces attached to bridges
	LoAddrs []string          // prefixes put on lo (a DR real server's VIP)
	Routes  []Route           // static routes, added after the addresses
	Sysctls map[string]string // e.g. "net.ipv4.ip_forward": "1"
}

// Link attaches a node to a bridge through a veth pair.
type Link struct {
	Net   string   // bridge name from Spec.Nets
	Dev   string   // interface name inside the node, e.g. "eth0"
	Addrs []string // prefixes, e.g. "10.99.0.1/24"
}

// Route is a static route in a node.
type Route struct {
	Dst string // prefix or "default"
	Via string // gateway address
}

// SwitchNode is the name of the node that holds the bridges.
const SwitchNode = "sw"

// RandomPrefix returns base followed by four random hex digits and "-": a
// prefix no other topology on the host uses, for tests that run side by side.
func RandomPrefix(base string) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base + hex.EncodeToString(b) + "-"
}

// NS returns the namespace name of a node.
func (s *Spec) NS(node string) string { return s.Prefix + node }

// StateFile returns the path of the state file of this topology.
func (s *Spec) StateFile() string { return StateFile(s.StateDir, s.Prefix) }

// StateFile returns the path of the state file for a prefix in dir (empty
// means DefaultStateDir).
func StateFile(dir, prefix string) string {
	if dir == "" {
		dir = DefaultStateDir
	}
	return filepath.Join(dir, strings.TrimSuffix(prefix, "-")+".json")
}

// Validate checks names, lengths and addresses without touching the system.
func (s *Spec) Validate() error {
	if s.Prefix == "" {
		return fmt.Errorf("topology: empty prefix")
	}
	nets := map[string]bool{}
	for _, n := range s.Nets {
		if n == "" || len(n) > maxName {
			return fmt.Errorf("topology: bad bridge name %q", n)
		}
		nets[n] = true
	}
	seen := map[string]bool{SwitchNode: true}
	for _, n := range s.Nodes {
		if seen[n.Name] {
			return fmt.Errorf("topology: duplicate node name %q", n.Name)
		}
		seen[n.Name] = true
		if err := s.validateNode(n, nets); err != nil {
			return err
		}
	}
	return nil
}

// validateNode checks one node against the spec's prefix and bridges.
func (s *Spec) validateNode(n Node, nets map[string]bool) error {
	if n.Name == "" || n.Name == SwitchNode {
		return fmt.Errorf("topology: bad node name %q", n.Name)
	}
	if ns := s.NS(n.Name); len(ns) > maxName {
		return fmt.Errorf("topology: namespace name %q longer than %d", ns, maxName)
	}
	for _, l := range n.Links {
		if !nets[l.Net] {
			return fmt.Errorf("topology: node %s: unknown bridge %q", n.Name, l.Net)
		}
		if l.Dev == "" || len(l.Dev) > maxName || len(swDev(n.Name, l.Dev)) > maxName {
			return fmt.Errorf("topology: node %s: device name %q too long or empty", n.Name, l.Dev)
		}
		for _, a := range l.Addrs {
			if _, err := netip.ParsePrefix(a); err != nil {
				return fmt.Errorf("topology: node %s: %w", n.Name, err)
			}
		}
	}
	for _, a := range n.LoAddrs {
		if _, err := netip.ParsePrefix(a); err != nil {
			return fmt.Errorf("topology: node %s: %w", n.Name, err)
		}
	}
	return nil
}

// swDev is the name of the switch-side end of a node's veth.
func swDev(node, dev string) string { return node + "-" + dev }
