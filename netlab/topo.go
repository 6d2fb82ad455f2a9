package netlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrExists means a topology with the same prefix is up, or crashed without
// cleaning up; Down with its state file removes it.
var ErrExists = errors.New("a topology with this prefix exists")

// Topology is a built set of namespaces; Close tears it down.
type Topology struct {
	Spec Spec

	mu    sync.Mutex
	state State
	procs []*Proc
}

// Build creates the topology described by spec and records it in the state
// file. On error it removes whatever it had created.
func Build(ctx context.Context, spec Spec) (t *Topology, err error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(spec.StateFile()); err == nil {
		return nil, fmt.Errorf("building topology %s: %w (state file %s)", spec.Prefix, ErrExists, spec.StateFile())
	}
	existing, err := listNS(ctx)
	if err != nil {
		return nil, err
	}
	for _, ns := range existing {
		if strings.HasPrefix(ns, spec.Prefix) {
			return nil, fmt.Errorf("building topology %s: %w (namespace %s)", spec.Prefix, ErrExists, ns)
		}
	}
	t = &Topology{Spec: spec, state: State{Prefix: spec.Prefix, Created: time.Now().UTC()}}
	defer func() {
		if err != nil {
			_ = t.Close()
		}
	}()
	if err := t.addNS(ctx, SwitchNode); err != nil {
		return t, err
	}
	sw := spec.NS(SwitchNode)
	for _, br := range spec.Nets {
		if err := ipNS(ctx, sw, "link", "add", br, "type", "bridge", "forward_delay", "0", "mcast_snooping", "0"); err != nil {
			return t, err
		}
		if err := ipNS(ctx, sw, "link", "set", br, "up"); err != nil {
			return t, err
		}
	}
	for _, n := range spec.Nodes {
		if err := t.addNode(ctx, n); err != nil {
			return t, err
		}
	}
	return t, nil
}

func (t *Topology) addNS(ctx context.Context, node string) error {
	ns := t.Spec.NS(node)
	if err := ip(ctx, "netns", "add", ns); err != nil {
		return err
	}
	t.mu.Lock()
	t.state.Namespaces = append(t.state.Namespaces, ns)
	t.mu.Unlock()
	if err := t.save(); err != nil {
		return err
	}
	return ipNS(ctx, ns, "link", "set", "lo", "up")
}

func (t *Topology) addNode(ctx context.Context, n Node) error {
	if err := t.addNS(ctx, n.Name); err != nil {
		return err
	}
	ns, sw := t.Spec.NS(n.Name), t.Spec.NS(SwitchNode)
	for _, l := range n.Links {
		s := swDev(n.Name, l.Dev)
		if err := ipNS(ctx, sw, "link", "add", s, "type", "veth", "peer", "name", l.Dev, "netns", ns); err != nil {
			return err
		}
		if err := ipNS(ctx, sw, "link", "set", s, "master", l.Net, "up"); err != nil {
			return err
		}
	}
	// Sysctls go after the links exist (per-device keys) and before any
	// address is up (arp_ignore must hold from the first packet).
	keys := make([]string, 0, len(n.Sysctls))
	for k := range n.Sysctls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := t.Sysctl(ctx, n.Name, k, n.Sysctls[k]); err != nil {
			return err
		}
	}
	for _, l := range n.Links {
		for _, a := range l.Addrs {
			if err := ipNS(ctx, ns, "addr", "add", a, "dev", l.Dev); err != nil {
				return err
			}
		}
		if err := ipNS(ctx, ns, "link", "set", l.Dev, "up"); err != nil {
			return err
		}
	}
	for _, a := range n.LoAddrs {
		if err := ipNS(ctx, ns, "addr", "add", a, "dev", "lo"); err != nil {
			return err
		}
	}
	for _, r := range n.Routes {
		if err := ipNS(ctx, ns, "route", "add", r.Dst, "via", r.Via); err != nil {
			return err
		}
	}
	return nil
}

// AddNode adds a node to a built topology, as Build adds those of its Spec.
func (t *Topology) AddNode(ctx context.Context, n Node) error {
	nets := make(map[string]bool, len(t.Spec.Nets))
	for _, br := range t.Spec.Nets {
		nets[br] = true
	}
	if slices.ContainsFunc(t.Spec.Nodes, func(o Node) bool { return o.Name == n.Name }) {
		return fmt.Errorf("topology: duplicate node name %q", n.Name)
	}
	if err := t.Spec.validateNode(n, nets); err != nil {
		return err
	}
	t.Spec.Nodes = append(t.Spec.Nodes, n)
	return t.addNode(ctx, n)
}

// Port returns the name of the switch-side end of a node's link dev (in the
// switch node): setting it down cuts the node off that bridge.
func (t *Topology) Port(node, dev string) string { return swDev(node, dev) }

// NS returns the namespace name of a node.
func (t *Topology) NS(node string) string { return t.Spec.NS(node) }

// Sysctl sets a sysctl inside a node's namespace. /proc/sys/net follows the
// namespace of the thread that opens it, so no sysctl binary is needed.
func (t *Topology) Sysctl(_ context.Context, node, key, value string) error {
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	err := t.Do(node, func() error { return os.WriteFile(path, []byte(value), 0o644) })
	if err != nil {
		return fmt.Errorf("setting %s=%s in %s: %w", key, value, t.NS(node), err)
	}
	return nil
}

// IP runs `ip -n NS args...` in a node.
func (t *Topology) IP(ctx context.Context, node string, args ...string) error {
	return ipNS(ctx, t.NS(node), args...)
}

// Exec runs a command inside a node and returns its combined output.
func (t *Topology) Exec(ctx context.Context, node string, argv ...string) ([]byte, error) {
	args := append([]string{"netns", "exec", t.NS(node)}, argv...)
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("running %q in %s: %w: %s", strings.Join(argv, " "), t.NS(node), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// SetDir records the working directory of whoever uses the topology (the
// lab's config and log directory) in the state file.
func (t *Topology) SetDir(dir string) error {
	t.mu.Lock()
	t.state.Dir = dir
	t.mu.Unlock()
	return t.save()
}

// Close stops every process started in the topology, deletes its namespaces
// (which removes the veths and bridges) and removes the state file.
func (t *Topology) Close() error {
	t.mu.Lock()
	procs := append([]*Proc(nil), t.procs...)
	t.mu.Unlock()
	for _, p := range procs {
		p.Stop(2 * time.Second)
	}
	t.mu.Lock()
	st := t.state
	t.mu.Unlock()
	return teardown(st, t.Spec.StateFile())
}

// Down tears down the topology recorded in a state file, as Close would;
// it is for cleaning up after the builder itself crashed.
func Down(stateFile string) error {
	st, err := readState(stateFile)
	if err != nil {
		return err
	}
	for _, p := range st.Procs {
		stopRecorded(p, 2*time.Second)
	}
	return teardown(st, stateFile)
}

func teardown(st State, stateFile string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	// Anything still running inside our namespaces is ours: kill it by PID,
	// or the namespace would outlive its name.
	for _, ns := range st.Namespaces {
		for _, pid := range nsPIDs(ctx, ns) {
			killPID(pid)
		}
	}
	for i := len(st.Namespaces) - 1; i >= 0; i-- {
		ns := st.Namespaces[i]
		if err := ip(ctx, "netns", "delete", ns); err != nil && nsExists(ctx, ns) {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(stateFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func ip(ctx context.Context, args ...string) error { return run(ctx, "ip", args...) }

func ipNS(ctx context.Context, ns string, args ...string) error {
	return run(ctx, "ip", append([]string{"-n", ns}, args...)...)
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func listNS(ctx context.Context) ([]string, error) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}

func nsExists(ctx context.Context, ns string) bool {
	names, _ := listNS(ctx)
	for _, n := range names {
		if n == ns {
			return true
		}
	}
	return false
}

// Namespaces returns the host's namespaces whose names start with prefix.
func Namespaces(ctx context.Context, prefix string) ([]string, error) {
	names, err := listNS(ctx)
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out, err
}
