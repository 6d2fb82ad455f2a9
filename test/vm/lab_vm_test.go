//go:build linux

package vm

// The topology of the traffic tests, built inside the VM for each test:
//
//	client ns hv-vm-cl        root ns = director            real servers
//	10.10.0.2-9/24 eth0 ── veth ── hv-vm-ext 10.10.0.1/24
//	                               VIPs 10.10.0.1xx/32
//	                               hv-vm-br 10.20.0.1/24 ── veth ── hv-vm-rs1 eth0 10.20.0.11/24
//	                                                    └── veth ── hv-vm-rs2 eth0 10.20.0.12/24
//
// The director routes between the two networks; the real servers' default
// route points at it (NAT needs that; DR and TUN replies, sourced from the
// VIP, come back through it too, hence accept_local on hv-vm-br). The real
// servers are goroutines of this test binary listening inside their
// namespaces; they answer each line with their name and the addresses they
// saw, so a test can tell where a connection went and how it got there.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/nft"
)

const (
	nsClient = "hv-vm-cl"
	linkExt  = "hv-vm-ext"
	linkBr   = "hv-vm-br"
	nftTable = "hv-vm"
	ioWait   = 10 * time.Second // generous: the guest is emulated
)

var (
	dirExt   = netip.MustParseAddr("10.10.0.1")
	dirInt   = netip.MustParseAddr("10.20.0.1")
	clientIP = netip.MustParseAddr("10.10.0.2")
	rsNames  = []string{"rs1", "rs2"}
	rsNS     = []string{"hv-vm-rs1", "hv-vm-rs2"}
	rsAddrs  = []netip.Addr{netip.MustParseAddr("10.20.0.11"), netip.MustParseAddr("10.20.0.12")}
	rsPorts  = []uint16{80, 443, 8080}
)

// needVM skips outside the VM, which is the only place these tests may run:
// they change the kernel's IPVS table, links and sysctls.
func needVM(t *testing.T) {
	t.Helper()
	if os.Getenv("HAVSD_VM") != "1" {
		t.Skip("needs the IPVS VM (HAVSD_VM=1): run test/vm/run-tests.sh; the host kernel has no IPVS")
	}
}

// lab is one test's view of the shared topology: its own reconciler over the
// kernel table, emptied at the test's cleanup.
type lab struct {
	rec *lvs.Reconciler
}

// shared is the topology and real servers, built by the first test that
// needs them and removed by TestMain: namespace creation and deletion cost
// seconds in the emulated guest. Tests restore whatever they change in it.
var shared struct {
	once  sync.Once
	built bool
	err   error
	tbl   *lvs.IPVS
	stop  []func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.built {
		for _, f := range shared.stop {
			f()
		}
		if err := teardown(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// newLab returns a lab over the shared topology with an empty desired table.
func newLab(t *testing.T) *lab {
	t.Helper()
	needVM(t)
	shared.once.Do(func() {
		t0 := time.Now()
		shared.built = true
		shared.err = build()
		if shared.err == nil {
			shared.tbl, shared.err = lvs.OpenIPVS("")
		}
		t.Logf("lab built in %v", time.Since(t0).Round(time.Millisecond))
	})
	if shared.err != nil {
		t.Fatalf("building the lab: %v", shared.err)
	}
	l := &lab{rec: lvs.NewReconciler(shared.tbl, lvs.ReconcilerOptions{
		Interval: -1,
		Filter:   nft.New(nft.Options{Table: nftTable}),
	})}
	t.Cleanup(func() {
		l.rec.SetDesired(lvs.Desired{})
		if _, err := l.rec.Reconcile(context.Background()); err != nil {
			t.Errorf("emptying the table at cleanup: %v", err)
		}
	})
	dumpOnFailure(t)
	return l
}

// build creates the namespaces, links, addresses, sysctls and real servers.
func build() error {
	_ = teardown() // a crashed earlier run may have left something
	err := ipBatch("", fmt.Sprintf(`netns add %[1]s
netns add %[2]s
netns add %[3]s
link add %[4]s type veth peer name eth0 netns %[1]s
link add %[5]s type bridge
link add hv-vm-r1 type veth peer name eth0 netns %[2]s
link add hv-vm-r2 type veth peer name eth0 netns %[3]s
link set hv-vm-r1 master %[5]s up
link set hv-vm-r2 master %[5]s up
link set %[5]s up
link set %[4]s up
addr add %[6]s/24 dev %[4]s
addr add %[7]s/24 dev %[5]s
`, nsClient, rsNS[0], rsNS[1], linkExt, linkBr, dirExt, dirInt))
	if err != nil {
		return err
	}
	client := "link set lo up\nlink set eth0 up\n"
	for i := range 8 {
		client += fmt.Sprintf("addr add 10.10.0.%d/24 dev eth0\n", 2+i)
	}
	if err := ipBatch(nsClient, client+"route add default via "+dirExt.String()+"\n"); err != nil {
		return err
	}
	for i, ns := range rsNS {
		if err := ipBatch(ns, fmt.Sprintf("link set lo up\nlink set eth0 up\naddr add %s/24 dev eth0\nroute add default via %s\n", rsAddrs[i], dirInt)); err != nil {
			return err
		}
	}
	for _, kv := range [][2]string{
		{"net/ipv4/ip_forward", "1"},
		{"net/ipv4/conf/all/rp_filter", "0"},
		{"net/ipv4/conf/" + linkBr + "/rp_filter", "0"},
		{"net/ipv4/conf/" + linkBr + "/accept_local", "1"},
		{"net/ipv4/vs/conntrack", "1"},
	} {
		if err := os.WriteFile("/proc/sys/"+kv[0], []byte(kv[1]), 0o644); err != nil {
			return fmt.Errorf("setting %s: %w", kv[0], err)
		}
	}
	for i, ns := range rsNS {
		for _, p := range rsPorts {
			stop, err := startServer(ns, rsNames[i], p)
			if err != nil {
				return err
			}
			shared.stop = append(shared.stop, stop)
		}
	}
	return nil
}

// teardown deletes the namespaces and links of the lab; what is already gone
// is no error.
func teardown() error {
	// Deleting a namespace is asynchronous; deleting the director's end of
	// each veth first removes the pairs at once.
	for _, l := range []string{linkExt, "hv-vm-r1", "hv-vm-r2", linkBr} {
		_ = exec.Command("ip", "link", "del", l).Run()
	}
	for _, ns := range append([]string{nsClient}, rsNS...) {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil || strings.Contains(string(out), "hv-vm-") {
		return fmt.Errorf("lab teardown left namespaces: %s %v", out, err)
	}
	return nil
}

// ipBatch runs iproute2 commands, one per line, in namespace ns ("" for the
// director's).
func ipBatch(ns, cmds string) error {
	args := []string{"-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	cmd := exec.Command("ip", args...)
	cmd.Stdin = strings.NewReader(cmds)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %w\n%s\ncommands:\n%s", strings.Join(args, " "), err, out, cmds)
	}
	return nil
}

// mustIP is ipBatch failing the test.
func mustIP(t *testing.T, ns, cmds string) {
	t.Helper()
	if err := ipBatch(ns, cmds); err != nil {
		t.Fatal(err)
	}
}

// addVIP adds vip/32 to the director's client-facing link until cleanup.
func addVIP(t *testing.T, vip netip.Addr) {
	t.Helper()
	mustIP(t, "", fmt.Sprintf("addr add %s/32 dev %s\n", vip, linkExt))
	t.Cleanup(func() { _ = exec.Command("ip", "addr", "del", vip.String()+"/32", "dev", linkExt).Run() })
}

// inNS runs f on a fresh OS thread switched into the named namespace. The
// thread is discarded afterwards, so no other goroutine ever runs in it.
// Sockets f creates stay in that namespace wherever they are used later.
// When the goroutine happens to hold the main thread, Go parks that thread
// for good instead of ending it, and /proc/net (which follows the main
// thread) then shows that namespace: read /proc/thread-self/net instead.
func inNS(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		h, err := netns.GetFromName(ns)
		if err != nil {
			errc <- fmt.Errorf("opening namespace %s: %w", ns, err)
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			errc <- fmt.Errorf("entering namespace %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// startServer runs a real server named name on port in namespace ns until
// stop is called. For each line a client sends, it answers
// "NAME LOCAL-ADDR:PORT REMOTE-ADDR:PORT".
func startServer(ns, name string, port uint16) (stop func(), err error) {
	var ln net.Listener
	err = inNS(ns, func() (err error) {
		ln, err = net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("starting %s on port %d: %w", name, port, err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		var conns sync.WaitGroup
		defer conns.Wait()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() { serve(c, name) })
		}
	})
	return func() { ln.Close(); wg.Wait() }, nil
}

func serve(c net.Conn, name string) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := r.ReadString('\n'); err != nil {
			return
		}
		if _, err := fmt.Fprintf(c, "%s %s %s\n", name, c.LocalAddr(), c.RemoteAddr()); err != nil {
			return
		}
	}
}

// reply is what a real server answered.
type reply struct {
	Server        string
	Local, Remote netip.AddrPort // as the real server saw them
}

// conn is a client connection from the client namespace.
type conn struct {
	c net.Conn
	r *bufio.Reader
}

// dial connects from src in the client namespace to dst, closing at cleanup.
func dial(t *testing.T, src netip.Addr, dst netip.AddrPort) *conn {
	t.Helper()
	var c net.Conn
	err := inNS(nsClient, func() (err error) {
		d := net.Dialer{Timeout: ioWait, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}
		c, err = d.Dial("tcp4", dst.String())
		return err
	})
	if err != nil {
		t.Fatalf("connecting from %s to %s: %v", src, dst, err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{c: c, r: bufio.NewReader(c)}
}

// ask sends one line and parses the real server's answer.
func (c *conn) ask(t *testing.T) reply {
	t.Helper()
	_ = c.c.SetDeadline(time.Now().Add(ioWait))
	if _, err := c.c.Write([]byte("?\n")); err != nil {
		t.Fatalf("writing to %s: %v", c.c.RemoteAddr(), err)
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading from %s (local %s): %v", c.c.RemoteAddr(), c.c.LocalAddr(), err)
	}
	f := strings.Fields(line)
	if len(f) != 3 {
		t.Fatalf("unexpected answer %q", line)
	}
	var r reply
	r.Server = f[0]
	if r.Local, err = netip.ParseAddrPort(f[1]); err == nil {
		r.Remote, err = netip.ParseAddrPort(f[2])
	}
	if err != nil {
		t.Fatalf("unexpected answer %q: %v", line, err)
	}
	return r
}

// fetch opens a new connection from src to dst, asks once and closes it.
func fetch(t *testing.T, src netip.Addr, dst netip.AddrPort) reply {
	t.Helper()
	c := dial(t, src, dst)
	defer c.c.Close()
	return c.ask(t)
}

// apply makes d the desired state and runs one reconcile pass.
func (l *lab) apply(t *testing.T, d lvs.Desired) lvs.Result {
	t.Helper()
	l.rec.SetDesired(d)
	res, err := l.rec.Reconcile(context.Background())
	if err != nil {
		t.Fatalf("reconcile: %v\n%s", err, ipvsadmList(t))
	}
	return res
}

// ipvsadmList returns the kernel table as ipvsadm shows it, for messages.
func ipvsadmList(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ipvsadm", "-Ln").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("ipvsadm -Ln: %v: %s", err, out)
	}
	return string(out)
}

// dumpOnFailure logs the director's IPVS table, connections, packet filter
// and conntrack table at cleanup when the test failed.
func dumpOnFailure(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, c := range []string{"ipvsadm -Ln", "ipvsadm -Lnc", "nft list ruleset", "cat /proc/net/nf_conntrack",
			"/sbin/ip -n " + rsNS[0] + " route", "/sbin/ip -n " + rsNS[0] + " -s link"} {
			out, err := exec.Command("sh", "-c", c).CombinedOutput()
			t.Logf("%s (%v):\n%s", c, err, out)
		}
	})
}
