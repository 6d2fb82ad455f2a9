package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/control"
	"github.com/havsd/havsd/cmd/havsd/internal/drill"
	"github.com/havsd/havsd/director"
	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/poll"
)

// execHavsdEnv makes this test binary run as havsd (TestMain), so that a
// VM test can start whole daemons in namespaces without a second binary.
const execHavsdEnv = "HAVSD_TEST_EXEC_HAVSD"

func runAsHavsd(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return (&cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}).main(ctx, args)
}

// syncPair is two havsd directors (namespaces da, db, each with its own
// IPVS table), a DR real server answering an echo service, and a client.
type syncPair struct {
	t    *testing.T
	topo *netlab.Topology
	dir  string
	proc map[string]*netlab.Proc
	logs map[string]*poll.Buffer
}

const (
	pairVIP  = "10.78.0.50"
	pairPort = 7000
)

func newSyncPair(t *testing.T, withSync bool) *syncPair {
	t.Helper()
	if os.Getenv("HAVSD_VM") != "1" {
		t.Skip("needs the IPVS VM (HAVSD_VM=1): run test/vm/run-tests.sh; the host kernel has no IPVS")
	}
	link := func(addr string) []netlab.Link {
		return []netlab.Link{{Net: "lan", Dev: "eth0", Addrs: []string{addr + "/24"}}}
	}
	topo, err := netlab.Build(context.Background(), netlab.Spec{Prefix: "lvd-", StateDir: t.TempDir(), Nets: []string{"lan"}, Nodes: []netlab.Node{
		{Name: "cl", Links: link("10.78.0.10")},
		{Name: "da", Links: link("10.78.0.1")},
		{Name: "db", Links: link("10.78.0.2")},
		{Name: "rs", Links: link("10.78.0.100"), LoAddrs: []string{pairVIP + "/32"}, Sysctls: map[string]string{
			"net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.all.arp_announce": "2"}},
	}})
	if err != nil {
		t.Fatalf("building the pair: %v", err)
	}
	p := &syncPair{t: t, topo: topo, dir: t.TempDir(), proc: map[string]*netlab.Proc{}, logs: map[string]*poll.Buffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			for n, l := range p.logs {
				t.Logf("havsd in %s:\n%s", n, l.String())
			}
		}
		topo.Close()
	})
	var ln net.Listener
	if err := topo.Do("rs", func() (err error) { ln, err = net.Listen("tcp4", fmt.Sprintf(":%d", pairPort)); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		node string
		prio int
	}{{"da", 150}, {"db", 100}} {
		sync := ""
		if withSync {
			sync = "ipvs_sync {\n    interface    = \"eth0\"\n    instance     = \"VI_1\"\n    sync_retries = 2\n  }"
		}
		cfg := fmt.Sprintf(`global {
  control_socket     = %q
  reconcile_interval = "1s"
  %s
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  version           = 3
  advert_interval   = "100ms"
  virtual_ipaddress = ["%s/32"]
}

virtual_service "echo" {
  protocol  = "tcp"
  address   = "%s:%d"
  scheduler = "wlc"
  forward   = "dr"
  real_server "10.78.0.100:%d" {}
}
`, p.sock(d.node), sync, d.prio, pairVIP, pairVIP, pairPort, pairPort)
		file := filepath.Join(p.dir, d.node+".hcl")
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		p.logs[d.node] = &poll.Buffer{}
		proc, err := topo.Start(d.node, "havsd", []string{self, "run", "-f", file},
			netlab.ProcOptions{Env: []string{execHavsdEnv + "=1"}, Out: p.logs[d.node]})
		if err != nil {
			t.Fatal(err)
		}
		p.proc[d.node] = proc
		t.Cleanup(func() { proc.Stop(5 * time.Second) })
		if d.node == "da" {
			p.wait("da master", func() bool { st, ok := p.status("da"); return ok && st.Instances[0].State == "master" })
		}
	}
	p.wait("db backup", func() bool { st, ok := p.status("db"); return ok && st.Instances[0].State == "backup" })
	if withSync {
		for _, n := range []string{"da", "db"} {
			p.wait(n+"'s sync daemons", func() bool {
				st, ok := p.status(n)
				return ok && st.Sync != nil && len(st.Sync.Daemons) == 2 && st.Sync.Daemons[0].Running && st.Sync.Daemons[1].Running
			})
			// The block's sysctl reached the director's namespace.
			if out, err := topo.Exec(context.Background(), n, "cat", "/proc/sys/net/ipv4/vs/sync_retries"); err != nil || strings.TrimSpace(string(out)) != "2" {
				t.Errorf("sync_retries in %s: %q, %v", n, out, err)
			}
		}
	}
	return p
}

func (p *syncPair) sock(node string) string { return filepath.Join(p.dir, node+".sock") }

func (p *syncPair) wait(what string, cond func() bool) {
	p.t.Helper()
	if !poll.For(30*time.Second, cond) {
		p.t.Fatalf("timed out waiting for %s", what)
	}
}

func (p *syncPair) status(node string) (director.Status, bool) {
	res, err := control.Call(context.Background(), p.sock(node), control.Request{Command: "status"})
	var st director.Status
	if err != nil || json.Unmarshal(res, &st) != nil || len(st.Instances) != 1 {
		return st, false
	}
	return st, true
}

// conns counts db's (or da's) IPVS connection entries to the VIP's port.
func (p *syncPair) conns(node string) int {
	out, err := p.topo.Exec(context.Background(), node, "ipvsadm", "-Lnc")
	if err != nil {
		p.t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 6 && f[4] == fmt.Sprintf("%s:%d", pairVIP, pairPort) && f[2] == "ESTABLISHED" {
			n++
		}
	}
	return n
}

// TestVMSyncDaemons: two havsd directors, 20 long-lived streams through the
// master; the master is killed with SIGKILL and its link taken down. With
// ipvs_sync the backup lists the connections before the event and every
// stream continues through it; without, every stream breaks. A planned
// handover keeps them all too.
func TestVMSyncDaemons(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sync  bool
		event string
	}{
		{"with ipvs_sync, SIGKILL and link down", true, "crash"},
		{"with ipvs_sync, havsd handover and fail back", true, "handover"},
		{"without ipvs_sync, SIGKILL and link down", false, "crash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newSyncPair(t, tc.sync)
			v, err := drill.EnterNS(p.topo.NS("cl"))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			const n = 20
			streams, err := drill.OpenStreams(context.Background(), v, drill.StreamsConfig{
				Target: drill.Target{Scheme: "tcp", Addr: netip.MustParseAddrPort(fmt.Sprintf("%s:%d", pairVIP, pairPort))},
				N:      n, Gap: 10 * time.Millisecond, Deadline: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if tc.sync {
				p.wait("db to list the 20 synced connections", func() bool { return p.conns("db") >= n })
			} else if c := p.conns("db"); c != 0 {
				t.Fatalf("db lists %d connections without ipvs_sync", c)
			}
			event := time.Now()
			streams.Event(event)
			switch tc.event {
			case "crash":
				if err := p.proc["da"].Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				if err := p.topo.IP(context.Background(), "da", "link", "set", "eth0", "down"); err != nil {
					t.Fatal(err)
				}
			case "handover":
				if _, err := control.Call(context.Background(), p.sock("da"), control.Request{Command: "handover"}); err != nil {
					t.Fatalf("handover: %v", err)
				}
			}
			p.wait("db master", func() bool { st, ok := p.status("db"); return ok && st.Instances[0].State == "master" })
			took := time.Since(event)
			// Every stream exchanges 20 more messages or ends (a stall
			// past its 20 s deadline ends it too).
			poll.For(45*time.Second, func() bool { r, b := streams.Progress(20); return r+b == n })
			if tc.event == "handover" {
				// Fail back: da, yielding since the handover, resumes and
				// preempts. It still holds its own entries, kept current
				// by db's master daemon while db forwarded.
				p.wait("da to list the connections", func() bool { return p.conns("da") >= n })
				if _, err := control.Call(context.Background(), p.sock("da"), control.Request{Command: "resume"}); err != nil {
					t.Fatalf("resume: %v", err)
				}
				p.wait("da master again", func() bool { st, ok := p.status("da"); return ok && st.Instances[0].State == "master" })
				streams.Event(time.Now())
				poll.For(45*time.Second, func() bool { r, b := streams.Progress(20); return r+b == n })
			}
			listed := p.conns("db") // before Stop closes the connections
			if tc.event == "handover" {
				listed = p.conns("da")
			}
			r := streams.Stop()
			line := fmt.Sprintf("%s: %s; db master after %v", tc.name, r.Line(), took.Round(time.Millisecond))
			fmt.Println("BENCH " + line)
			t.Log(line)
			if tc.sync && r.Survived != n {
				t.Errorf("with ipvs_sync %d of %d streams survived", r.Survived, n)
			}
			if !tc.sync && r.Survived != 0 {
				t.Errorf("without ipvs_sync %d of %d streams survived; db should reset them all", r.Survived, n)
			}
			if tc.sync && listed < n {
				t.Errorf("the new master lists %d established connections after the event", listed)
			}
		})
	}
}
