package netlab

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// BirdConf is a BIRD 2 configuration for a router that learns routes from
// BGP neighbours and installs them in its kernel, merging equal paths from
// several neighbours into one multipath (ECMP) route.
type BirdConf struct {
	Comment  string
	RouterID netip.Addr
	ASN      uint32
	// HoldTime is offered to every neighbour (BIRD's minimum is 3 s); the
	// session uses the smaller of the two sides' offers.
	HoldTime  time.Duration
	Neighbors []BirdNeighbor
	// MergePaths merges equal routes from several neighbours into one
	// ECMP route in the kernel (`merge paths on`).
	MergePaths bool
}

// BirdNeighbor is one BGP session of the router.
type BirdNeighbor struct {
	Name     string // protocol name, e.g. "d1"
	Address  netip.Addr
	ASN      uint32
	Password string // TCP MD5; empty for none
}

// String renders bird.conf. Routes carrying the RFC 8326 GRACEFUL_SHUTDOWN
// community (65535:0) are imported with local preference 0, so that, with
// other paths available, they leave the multipath route at once. Graceful
// restart is off: a dead neighbour's routes go when its hold timer expires.
// The timers after an error are short so that a restarted neighbour is
// accepted again within seconds.
func (c BirdConf) String() string {
	var b strings.Builder
	if c.Comment != "" {
		fmt.Fprintf(&b, "# %s\n", c.Comment)
	}
	hold := max(3, int(c.HoldTime.Round(time.Second)/time.Second))
	keep := max(1, hold/3)
	fmt.Fprintf(&b, "log stderr all;\nrouter id %s;\n\n", c.RouterID)
	b.WriteString("protocol device {\n  scan time 10;\n}\n\n")
	b.WriteString("protocol kernel {\n  ipv4 {\n    import none;\n    export all;\n  };\n")
	if c.MergePaths {
		b.WriteString("  merge paths on;\n")
	}
	b.WriteString("}\n\n")
	b.WriteString("filter bgp_in {\n  if (65535, 0) ~ bgp_community then bgp_local_pref = 0;\n  accept;\n}\n\n")
	fmt.Fprintf(&b, "template bgp director {\n  local %s as %d;\n", c.RouterID, c.ASN)
	fmt.Fprintf(&b, "  hold time %d;\n  keepalive time %d;\n  connect delay time 1;\n  connect retry time 2;\n  error wait time 1, 2;\n", hold, keep)
	b.WriteString("  graceful restart off;\n  ipv4 {\n    import filter bgp_in;\n    export none;\n  };\n}\n\n")
	for _, n := range c.Neighbors {
		fmt.Fprintf(&b, "protocol bgp %s from director {\n  neighbor %s as %d;\n", n.Name, n.Address, n.ASN)
		if n.Password != "" {
			fmt.Fprintf(&b, "  password %q;\n", n.Password)
		}
		b.WriteString("}\n\n")
	}
	return b.String()
}

// Bird is a BIRD daemon running in a node of a topology.
type Bird struct {
	Proc   *Proc
	Socket string // control socket, for birdc -s
	Conf   string // configuration file
	topo   *Topology
	node   string
}

// StartBird writes conf into dir and runs BIRD in the foreground inside a
// node (never in the host namespace), with its control socket in dir and
// its log on out. It waits until BIRD answers on its socket.
func (t *Topology) StartBird(ctx context.Context, node, dir string, conf BirdConf, out io.Writer) (*Bird, error) {
	b := &Bird{Socket: filepath.Join(dir, "bird-"+node+".ctl"), Conf: filepath.Join(dir, "bird-"+node+".conf"), topo: t, node: node}
	if err := writeFile(b.Conf, conf.String()); err != nil {
		return nil, err
	}
	argv := []string{"bird", "-f", "-c", b.Conf, "-s", b.Socket, "-P", filepath.Join(dir, "bird-"+node+".pid")}
	p, err := t.Start(node, "bird-"+node, argv, ProcOptions{Out: out})
	if err != nil {
		return nil, err
	}
	b.Proc = p
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := b.Cmd(ctx, "show", "status"); err == nil {
			return b, nil
		} else if p.Exited() || time.Now().After(deadline) {
			p.Stop(time.Second)
			return nil, fmt.Errorf("bird in %s did not come up: %w", t.NS(node), err)
		}
		select {
		case <-ctx.Done():
			p.Stop(time.Second)
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Cmd runs a birdc command against this BIRD and returns its output.
func (b *Bird) Cmd(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "birdc", append([]string{"-s", b.Socket}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("birdc %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Protocols returns the state of every BGP protocol: name → "Established",
// "Active", "Connect", ... (BIRD's BGP state column, "Idle" while down).
func (b *Bird) Protocols(ctx context.Context) (map[string]string, error) {
	out, err := b.Cmd(ctx, "show", "protocols")
	if err != nil {
		return nil, err
	}
	return parseBirdProtocols(out), nil
}

// parseBirdProtocols reads `birdc show protocols`:
//
//	Name       Proto      Table      State  Since         Info
//	d1         BGP        ---        up     12:00:01.123  Established
//	d2         BGP        ---        start  12:00:01.123  Active        Socket: Connection refused
func parseBirdProtocols(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[1] != "BGP" {
			continue
		}
		state := "Idle"
		if len(f) >= 6 {
			state = f[5]
		}
		m[f[0]] = state
	}
	return m
}

// Reconfigure rewrites the configuration and asks BIRD to apply it.
func (b *Bird) Reconfigure(ctx context.Context, conf BirdConf) error {
	if err := writeFile(b.Conf, conf.String()); err != nil {
		return err
	}
	_, err := b.Cmd(ctx, "configure")
	return err
}
