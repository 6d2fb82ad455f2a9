package netlab

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/internal/procstat"
	"github.com/havsd/havsd/test/need"
	"github.com/havsd/havsd/test/poll"
)

// needRoot skips without root and iproute2, except in CI where it fails.
func needRoot(t *testing.T) {
	t.Helper()
	need.Root(t, "creates network namespaces")
	need.Binaries(t, "ip")
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		ok   bool
	}{
		{"pair nat", Pair("hv-lbx-", ModeNAT, 2), true},
		{"pair dr", Pair("hv-lbx-", ModeDR, 2), true},
		{"no prefix", Spec{}, false},
		{"long ns", Spec{Prefix: "a-very-long-prefix-", Nodes: []Node{{Name: "x"}}}, false},
		{"unknown bridge", Spec{Prefix: "p-", Nodes: []Node{{Name: "x", Links: []Link{{Net: "nope", Dev: "eth0"}}}}}, false},
		{"bad addr", Spec{Prefix: "p-", Nets: []string{"b"}, Nodes: []Node{{Name: "x", Links: []Link{{Net: "b", Dev: "eth0", Addrs: []string{"10.0.0.1"}}}}}}, false},
		{"switch name", Spec{Prefix: "p-", Nodes: []Node{{Name: SwitchNode}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.spec.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestBuildAndTeardown(t *testing.T) {
	needRoot(t)
	for _, m := range []Mode{ModeNAT, ModeDR} {
		t.Run(m.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			spec := Pair(RandomPrefix("hv-lb"), m, 2)
			spec.StateDir = t.TempDir()
			topo, err := Build(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = topo.Close() })
			// The client reaches both directors; real servers reach the
			// directors on their network.
			for i := range Directors {
				if out, err := topo.Exec(ctx, Client, "ping", "-c1", "-W2", DirectorIP(i).String()); err != nil {
					t.Errorf("client → director %d: %v\n%s", i, err, out)
				}
			}
			if m == ModeNAT {
				if out, err := topo.Exec(ctx, RealName(0), "ping", "-c1", "-W2", "10.99.1.1"); err != nil {
					t.Errorf("rs1 → d1: %v\n%s", err, out)
				}
			} else {
				out, err := topo.Exec(ctx, RealName(0), "sysctl", "-n", "net.ipv4.conf.all.arp_ignore")
				if err != nil || strings.TrimSpace(string(out)) != "1" {
					t.Errorf("arp_ignore on a DR real server = %q, %v", out, err)
				}
			}
			p, err := topo.Start(D1, "sleeper", []string{"sleep", "300"}, ProcOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := topo.Close(); err != nil {
				t.Fatal(err)
			}
			assertGone(t, spec, p.PID)
		})
	}
}

// TestDownFromStateFile tears down from the state file alone, as `havsd lab
// down` does after the lab crashed.
func TestDownFromStateFile(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spec := Pair(RandomPrefix("hv-lb"), ModeNAT, 1)
	spec.StateDir = t.TempDir()
	topo, err := Build(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = topo.Close() })
	p, err := topo.Start(D2, "sleeper", []string{"sleep", "300"}, ProcOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(ctx, spec); !errors.Is(err, ErrExists) {
		t.Errorf("building the same prefix twice: %v, want ErrExists", err)
	}
	// A process the topology did not start, left in one of its namespaces.
	stray := exec.Command("ip", "netns", "exec", topo.NS(Client), "sleep", "300")
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	go stray.Wait()
	if err := Down(spec.StateFile()); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	assertGone(t, spec, p.PID, stray.Process.Pid)
	if _, err := Build(ctx, spec); err != nil {
		t.Fatalf("rebuilding after Down: %v", err)
	} else {
		_ = Down(spec.StateFile())
	}
}

func assertGone(t *testing.T, spec Spec, pids ...int) {
	t.Helper()
	left, err := Namespaces(context.Background(), spec.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("namespaces left behind: %v", left)
	}
	for _, pid := range pids {
		if !poll.For(5*time.Second, func() bool { return !procstat.Alive(pid) }) {
			t.Errorf("process %d still running", pid)
		}
	}
	if _, err := os.Stat(spec.StateFile()); err == nil {
		t.Errorf("state file %s left behind", spec.StateFile())
	}
}
