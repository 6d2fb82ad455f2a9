//go:build linux

package lvs_test

// Tests and benchmarks against the real kernel. They run only inside the VM
// that test/vm boots (a Debian 6.1 kernel with the ip_vs modules loaded,
// ipvsadm and iproute2 present), which sets HAVSD_VM=1. They change the
// host's IPVS table and links, so never run them elsewhere.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/ipvsadm"
	"github.com/havsd/havsd/lvs/lvstest"
)

var vmState struct {
	once sync.Once
	tbl  *lvs.IPVS
	err  error
}

// vmTable returns the kernel table, the links real servers are routed over,
// and an empty IPVS table, emptied again at cleanup.
func vmTable(t *testing.T) *lvs.IPVS {
	t.Helper()
	if os.Getenv("HAVSD_VM") != "1" {
		t.Skip("needs the IPVS VM (HAVSD_VM=1, set by test/vm): this test programs the real kernel table with ipvsadm alongside")
	}
	vmState.once.Do(func() {
		if vmState.err = vmLinks(); vmState.err == nil {
			vmState.tbl, vmState.err = lvs.OpenIPVS("")
		}
	})
	if vmState.err != nil {
		t.Fatalf("VM setup: %v", vmState.err)
	}
	flushKernel(t)
	t.Cleanup(func() { flushKernel(t) })
	return vmState.tbl
}

// vmLinks creates a veth pair carrying the real servers' subnets, so IPVS
// accepts them as routable unicast addresses.
func vmLinks() error {
	if _, err := netlink.LinkByName("hv-lv-a"); err == nil {
		return nil
	}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "hv-lv-a"}, PeerName: "hv-lv-b"}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("creating veth hv-lv-a: %w", err)
	}
	a, err := netlink.LinkByName("hv-lv-a")
	if err != nil {
		return err
	}
	for _, p := range []string{"192.168.0.1/24", "192.168.1.1/24", "10.0.0.1/16", "198.51.100.1/24", "2001:db8:1::1/64"} {
		if err := netlink.AddrAdd(a, &netlink.Addr{IPNet: mustNet(p)}); err != nil {
			return fmt.Errorf("adding %s: %w", p, err)
		}
	}
	for _, n := range []string{"lo", "hv-lv-a", "hv-lv-b"} {
		l, err := netlink.LinkByName(n)
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return fmt.Errorf("setting %s up: %w", n, err)
		}
	}
	return nil
}

func mustNet(s string) *net.IPNet {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

func runIpvsadm(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	name := "ipvsadm"
	if len(args) > 0 && args[0] == "netns" {
		name = "ip" // ip netns exec NS ipvsadm ...
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ipvsadm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func flushKernel(t *testing.T) { runIpvsadm(t, "", "-C") }

// saved reads the kernel table back independently, through ipvsadm -Sn.
func saved(t *testing.T) []lvs.Service {
	t.Helper()
	svcs, err := ipvsadm.Parse(strings.NewReader(runIpvsadm(t, "", "-Sn")))
	if err != nil {
		t.Fatalf("parsing ipvsadm -Sn: %v", err)
	}
	return svcs
}

// canon is what a desired table looks like read back by ipvsadm.
func canon(svcs []lvs.Service, thresholds bool) []lvs.Service {
	out := make([]lvs.Service, len(svcs))
	for i, s := range svcs {
		c := s.Canonical()
		c.Destinations = slices.Clone(c.Destinations) // Canonical may share them
		if !thresholds {
			for j := range c.Destinations {
				c.Destinations[j].UpperThreshold, c.Destinations[j].LowerThreshold = 0, 0
			}
		}
		out[i] = c
	}
	return ipvsadm.Normalize(out)
}

func program(t *testing.T, tbl lvs.Table, desired []lvs.Service) *lvs.Reconciler {
	t.Helper()
	r := lvs.NewReconciler(tbl, lvs.ReconcilerOptions{})
	r.SetDesired(lvs.Desired{Services: desired})
	if _, err := r.Reconcile(context.Background()); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	return r
}

// checkKernel compares the kernel table, read by ipvsadm and by us, with
// desired.
func checkKernel(t *testing.T, tbl lvs.Table, desired []lvs.Service) {
	t.Helper()
	if diff := cmp.Diff(canon(desired, false), saved(t)); diff != "" {
		t.Errorf("ipvsadm -Sn differs from desired (-want +got):\n%s", diff)
	}
	ours, err := tbl.Services()
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	if diff := cmp.Diff(canon(desired, true), ipvsadm.Normalize(ours)); diff != "" {
		t.Errorf("our read-back differs from desired (-want +got):\n%s", diff)
	}
}

func tcpKey(addr string, port uint16) lvs.ServiceKey {
	a := netip.MustParseAddr(addr)
	return lvs.ServiceKey{Family: lvs.FamilyOf(a), Proto: lvs.TCP, Addr: a, Port: port}
}

func rs(addr string, port uint16, w int, f lvs.Forward) lvs.Destination {
	return lvs.Destination{Addr: netip.MustParseAddr(addr), Port: port, Weight: w, Forward: f}
}

// fields normalises ipvsadm -Ln or /proc/net/ip_vs output: the table lines
// after the three header lines, whitespace collapsed.
func fields(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var out []string
	for _, l := range lines[min(3, len(lines)):] {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return out
}

// TestVMTutorialLabs programs each lab of the tutorial and compares the
// kernel table with what the tutorial shows.
func TestVMTutorialLabs(t *testing.T) {
	labs := []struct {
		name  string
		svcs  []lvs.Service
		saved string   // ipvsadm -Sn
		list  []string // ipvsadm -Ln table lines, as in the tutorial
		proc  []string // /proc/net/ip_vs table lines
	}{
		{
			name: "NAT rr (4.1)",
			svcs: []lvs.Service{{Key: tcpKey("172.0.0.30", 80), Scheduler: "rr", Destinations: []lvs.Destination{
				rs("192.168.1.10", 80, 1, lvs.Masq), rs("192.168.1.20", 80, 1, lvs.Masq)}}},
			saved: "-A -t 172.0.0.30:80 -s rr\n-a -t 172.0.0.30:80 -r 192.168.1.10:80 -m -w 1\n-a -t 172.0.0.30:80 -r 192.168.1.20:80 -m -w 1\n",
			list:  []string{"TCP 172.0.0.30:80 rr", "-> 192.168.1.10:80 Masq 1 0 0", "-> 192.168.1.20:80 Masq 1 0 0"},
			proc:  []string{"TCP AC00001E:0050 rr", "-> C0A80114:0050 Masq 1 0 0", "-> C0A8010A:0050 Masq 1 0 0"},
		},
		{
			name: "NAT wrr 2:1 (4.1 step 10)",
			svcs: []lvs.Service{{Key: tcpKey("172.25.254.100", 80), Scheduler: "wrr", Destinations: []lvs.Destination{
				rs("192.168.0.101", 80, 2, lvs.Masq), rs("192.168.0.102", 80, 1, lvs.Masq)}}},
			saved: "-A -t 172.25.254.100:80 -s wrr\n-a -t 172.25.254.100:80 -r 192.168.0.101:80 -m -w 2\n-a -t 172.25.254.100:80 -r 192.168.0.102:80 -m -w 1\n",
			list:  []string{"TCP 172.25.254.100:80 wrr", "-> 192.168.0.101:80 Masq 2 0 0", "-> 192.168.0.102:80 Masq 1 0 0"},
		},
		{
			name: "DR rr (4.2)",
			svcs: []lvs.Service{{Key: tcpKey("192.168.0.100", 80), Scheduler: "rr", Destinations: []lvs.Destination{
				rs("192.168.0.101", 80, 1, lvs.Route), rs("192.168.0.102", 80, 1, lvs.Route)}}},
			saved: "-A -t 192.168.0.100:80 -s rr\n-a -t 192.168.0.100:80 -r 192.168.0.101:80 -g -w 1\n-a -t 192.168.0.100:80 -r 192.168.0.102:80 -g -w 1\n",
			list:  []string{"TCP 192.168.0.100:80 rr", "-> 192.168.0.101:80 Route 1 0 0", "-> 192.168.0.102:80 Route 1 0 0"},
		},
		{
			name: "fwmark 80+443 with persistence (4.3)",
			svcs: []lvs.Service{{Key: lvs.ServiceKey{Family: lvs.IPv4, FWMark: 66}, Scheduler: "rr", Timeout: 300 * time.Second,
				Destinations: []lvs.Destination{rs("192.168.0.101", 0, 1, lvs.Route), rs("192.168.0.102", 0, 1, lvs.Route)}}},
			saved: "-A -f 66 -s rr -p 300\n-a -f 66 -r 192.168.0.101:0 -g -w 1\n-a -f 66 -r 192.168.0.102:0 -g -w 1\n",
			list:  []string{"FWM 66 rr persistent 300", "-> 192.168.0.101:0 Route 1 0 0", "-> 192.168.0.102:0 Route 1 0 0"},
		},
	}
	tbl := vmTable(t)
	for _, lab := range labs {
		t.Run(lab.name, func(t *testing.T) {
			flushKernel(t)
			program(t, tbl, lab.svcs)
			checkKernel(t, tbl, lab.svcs)
			if got := runIpvsadm(t, "", "-Sn"); got != lab.saved {
				t.Errorf("ipvsadm -Sn:\n%s\nwant:\n%s", got, lab.saved)
			}
			if diff := cmp.Diff(lab.list, fields(runIpvsadm(t, "", "-Ln"))); diff != "" {
				t.Errorf("ipvsadm -Ln (-tutorial +got):\n%s", diff)
			}
			if lab.proc != nil {
				b, err := os.ReadFile("/proc/net/ip_vs")
				if err != nil {
					t.Fatal(err)
				}
				// The kernel lists real servers in its own order.
				got := fields(string(b))
				slices.Sort(got)
				want := slices.Clone(lab.proc)
				slices.Sort(want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("/proc/net/ip_vs (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// kernelRelease returns the running kernel's major and minor version.
func kernelRelease(t *testing.T) (int, int) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	rel := unix.ByteSliceToString(u.Release[:])
	parts := strings.SplitN(rel, ".", 3)
	maj, _ := strconv.Atoi(parts[0])
	mnr := 0
	if len(parts) > 1 {
		mnr, _ = strconv.Atoi(parts[1])
	}
	return maj, mnr
}

func TestVMSchedulers(t *testing.T) {
	tbl := vmTable(t)
	scheds := []string{"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "lblc", "lblcr", "fo", "ovf", "mh"}
	var desired []lvs.Service
	for i, s := range scheds {
		desired = append(desired, lvs.Service{Key: tcpKey("10.9.0.1", uint16(1000+i)), Scheduler: s,
			Destinations: []lvs.Destination{rs("10.0.0.2", 80, 1, lvs.Masq), rs("10.0.0.3", 80, 2, lvs.Masq)}})
	}
	program(t, tbl, desired)
	checkKernel(t, tbl, desired)

	t.Run("twos", func(t *testing.T) {
		twos := []lvs.Service{{Key: tcpKey("10.9.0.2", 80), Scheduler: "twos"}}
		r := lvs.NewReconciler(tbl, lvs.ReconcilerOptions{})
		r.SetDesired(lvs.Desired{Services: twos})
		_, err := r.Reconcile(context.Background())
		maj, mnr := kernelRelease(t)
		if maj > 6 || (maj == 6 && mnr >= 2) {
			if err != nil {
				t.Errorf("twos on Linux %d.%d: %v", maj, mnr, err)
			}
			return
		}
		want := `adding service tcp 10.9.0.2:80: scheduler "twos" is not available in this kernel (needs Linux 6.2+)`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("twos on Linux %d.%d: err = %v\nwant prefix %s", maj, mnr, err, want)
		}
		t.Logf("message: %v", err)
	})
}

func TestVMForwardingAndOptions(t *testing.T) {
	tbl := vmTable(t)
	v6 := netip.MustParseAddr("2001:db8:ffff::1")
	cases := []struct {
		name string
		svc  lvs.Service
	}{
		{"masq, route, tunnel", lvs.Service{Key: tcpKey("10.9.1.1", 80), Scheduler: "wlc", Destinations: []lvs.Destination{
			rs("10.0.0.2", 8080, 1, lvs.Masq), rs("10.0.0.3", 80, 1, lvs.Route), rs("10.0.0.4", 80, 1, lvs.Tunnel)}}},
		{"persistence with netmask", lvs.Service{Key: tcpKey("10.9.1.2", 443), Scheduler: "rr", Timeout: 600 * time.Second,
			NetmaskBits: 24, Destinations: []lvs.Destination{rs("10.0.0.2", 443, 1, lvs.Route)}}},
		{"thresholds", lvs.Service{Key: tcpKey("10.9.1.3", 80), Scheduler: "wlc", Destinations: []lvs.Destination{
			{Addr: netip.MustParseAddr("10.0.0.2"), Port: 80, Weight: 3, Forward: lvs.Masq, UpperThreshold: 100, LowerThreshold: 50}}}},
		{"sh flags", lvs.Service{Key: tcpKey("10.9.1.4", 80), Scheduler: "sh", Flags: lvs.FlagFallback | lvs.FlagPort,
			Destinations: []lvs.Destination{rs("10.0.0.2", 80, 1, lvs.Route)}}},
		{"mh port flag", lvs.Service{Key: tcpKey("10.9.1.5", 80), Scheduler: "mh", Flags: lvs.FlagPort,
			Destinations: []lvs.Destination{rs("10.0.0.2", 80, 1, lvs.Route)}}},
		{"UDP", lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.UDP, Addr: netip.MustParseAddr("10.9.1.6"), Port: 53},
			Scheduler: "rr", Destinations: []lvs.Destination{rs("10.0.0.2", 53, 1, lvs.Masq)}}},
		{"SCTP", lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.SCTP, Addr: netip.MustParseAddr("10.9.1.7"), Port: 3868},
			Scheduler: "rr", Destinations: []lvs.Destination{rs("10.0.0.2", 3868, 1, lvs.Masq)}}},
		{"IPv6 with /64 persistence", lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv6, Proto: lvs.TCP, Addr: v6, Port: 80},
			Scheduler: "wrr", Timeout: 60 * time.Second, NetmaskBits: 64,
			Destinations: []lvs.Destination{rs("2001:db8:1::2", 80, 1, lvs.Masq), rs("2001:db8:1::3", 80, 2, lvs.Route)}}},
		{"IPv6 fwmark", lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv6, FWMark: 7}, Scheduler: "rr",
			Destinations: []lvs.Destination{rs("2001:db8:1::2", 0, 1, lvs.Route)}}},
		{"one-packet scheduling", lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.UDP, Addr: netip.MustParseAddr("10.9.1.9"), Port: 53},
			Scheduler: "rr", OnePacket: true, Destinations: []lvs.Destination{rs("10.0.0.2", 53, 1, lvs.Masq)}}},
		{"GUE and GRE tunnels", lvs.Service{Key: tcpKey("10.9.1.10", 80), Scheduler: "rr", Destinations: []lvs.Destination{
			{Addr: netip.MustParseAddr("10.0.0.2"), Port: 80, Weight: 1, Forward: lvs.Tunnel, TunType: lvs.TunGUE, TunPort: 6080, TunFlags: lvs.TunCsum},
			{Addr: netip.MustParseAddr("10.0.0.3"), Port: 80, Weight: 1, Forward: lvs.Tunnel, TunType: lvs.TunGRE, TunFlags: lvs.TunCsum},
			{Addr: netip.MustParseAddr("10.0.0.4"), Port: 80, Weight: 1, Forward: lvs.Tunnel, TunType: lvs.TunGUE, TunPort: 6081, TunFlags: lvs.TunRemCsum}}}},
		{"SIP persistence engine", lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.UDP, Addr: netip.MustParseAddr("10.9.1.8"), Port: 5060},
			Scheduler: "rr", Timeout: 120 * time.Second, PE: "sip", Destinations: []lvs.Destination{rs("10.0.0.2", 5060, 1, lvs.Masq)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			flushKernel(t)
			desired := []lvs.Service{c.svc}
			count := lvstest.NewCounting(tbl)
			r := program(t, count, desired)
			checkKernel(t, tbl, desired)
			one, ok, err := tbl.Service(c.svc.Key)
			if err != nil || !ok || !one.Equal(c.svc) {
				t.Errorf("Service(%s) = %+v, %v, %v; want %+v", c.svc.Key, one, ok, err, c.svc)
			}
			count.ResetCounts()
			if _, err := r.Reconcile(context.Background()); err != nil {
				t.Fatalf("second Reconcile: %v", err)
			}
			if w := count.Counts().Writes(); w != 0 {
				t.Errorf("a no-change reconcile wrote %d times: read-back does not round-trip", w)
			}
		})
	}
	t.Run("thresholds in ipvsadm -Ln", func(t *testing.T) {
		flushKernel(t)
		program(t, tbl, []lvs.Service{cases[2].svc})
		var got []string
		for _, l := range fields(runIpvsadm(t, "", "-Ln", "--thresholds")) {
			if strings.HasPrefix(l, "-> 10.0.0.2:80") {
				got = strings.Fields(l)[2:4]
			}
		}
		if diff := cmp.Diff([]string{"100", "50"}, got); diff != "" {
			t.Errorf("thresholds (-want +got):\n%s", diff)
		}
	})
}

func TestVMWrites(t *testing.T) {
	tbl := vmTable(t)
	count := lvstest.NewCounting(tbl)
	svc := func(w int) []lvs.Service {
		return []lvs.Service{
			{Key: tcpKey("172.0.0.30", 80), Scheduler: "wrr", Destinations: []lvs.Destination{
				rs("192.168.1.10", 80, w, lvs.Masq), rs("192.168.1.20", 80, 1, lvs.Masq)}},
			{Key: tcpKey("172.0.0.30", 443), Scheduler: "rr", Timeout: time.Minute, Destinations: []lvs.Destination{
				rs("192.168.1.10", 443, 1, lvs.Route)}},
		}
	}
	r := lvs.NewReconciler(count, lvs.ReconcilerOptions{})
	steps := []struct {
		name string
		w    int
		want lvstest.Counts
	}{
		{"from empty", 2, lvstest.Counts{Dumps: 1, NewService: 2, NewDestination: 3}},
		{"no change", 2, lvstest.Counts{Dumps: 1}},
		{"weight change", 3, lvstest.Counts{Dumps: 1, UpdateDestination: 1}},
		{"no change again", 3, lvstest.Counts{Dumps: 1}},
		{"weight change, changed services only", 4, lvstest.Counts{Gets: 1, UpdateDestination: 1}},
		{"no change, changed services only", 4, lvstest.Counts{}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			count.ResetCounts()
			r.SetDesired(lvs.Desired{Services: svc(st.w)})
			pass := r.Reconcile
			if strings.HasSuffix(st.name, "changed services only") {
				pass = r.ReconcileChanged
			}
			if _, err := pass(context.Background()); err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			if diff := cmp.Diff(st.want, count.Counts()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			checkKernel(t, tbl, svc(st.w))
		})
	}
}

func TestVMFlushRepaired(t *testing.T) {
	tbl := vmTable(t)
	desired := []lvs.Service{{Key: tcpKey("172.0.0.30", 80), Scheduler: "rr", Destinations: []lvs.Destination{
		rs("192.168.1.10", 80, 1, lvs.Masq), rs("192.168.1.20", 80, 1, lvs.Masq)}}}
	r := lvs.NewReconciler(tbl, lvs.ReconcilerOptions{Interval: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	r.SetDesired(lvs.Desired{Services: desired})
	want := ipvsadm.Format(desired)
	waitFor(t, "the table to be programmed", func() bool { return runIpvsadm(t, "", "-Sn") == want })
	runs := r.Stats().Runs
	flushKernel(t) // an operator's ipvsadm -C
	waitFor(t, "the periodic pass to repair ipvsadm -C", func() bool { return runIpvsadm(t, "", "-Sn") == want })
	if r.Stats().Runs <= runs {
		t.Errorf("repaired without a pass?")
	}
}

func TestVMErrors(t *testing.T) {
	tbl := vmTable(t)
	// 198.51.100.255 is the broadcast address of hv-lv-a's subnet: not a
	// unicast address IPVS can route to.
	desired := []lvs.Service{{Key: tcpKey("172.0.0.30", 80), Scheduler: "rr", Destinations: []lvs.Destination{
		rs("192.168.1.10", 80, 1, lvs.Masq), rs("198.51.100.255", 80, 1, lvs.Masq)}}}
	r := lvs.NewReconciler(tbl, lvs.ReconcilerOptions{})
	r.SetDesired(lvs.Desired{Services: desired})
	res, err := r.Reconcile(context.Background())
	want := "adding real server 198.51.100.255:80 of service tcp 172.0.0.30:80: the kernel rejected the real server"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("err = %v\nwant prefix %s (EINVAL)", err, want)
	}
	t.Logf("message: %v", err)
	if len(res.Applied) != 2 || len(res.Failed) != 1 {
		t.Errorf("applied %d, failed %d; want the service and the good real server applied", len(res.Applied), len(res.Failed))
	}
	if got := runIpvsadm(t, "", "-Sn"); !strings.Contains(got, "-r 192.168.1.10:80 -m -w 1") {
		t.Errorf("the good real server is missing:\n%s", got)
	}
}

// TestVMTimeouts sets the connection timeouts as global { ipvs_timeouts }
// does and reads them back with ipvsadm; a zero leaves a timeout alone.
func TestVMTimeouts(t *testing.T) {
	tbl := vmTable(t)
	if err := tbl.SetTimeouts(900*time.Second, 120*time.Second, 300*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := runIpvsadm(t, "", "-L", "--timeout"); !strings.Contains(got, "900 120 300") {
		t.Fatalf("ipvsadm -L --timeout after setting 900/120/300:\n%s", got)
	}
	if err := tbl.SetTimeouts(0, 60*time.Second, 0); err != nil {
		t.Fatal(err)
	}
	if got := runIpvsadm(t, "", "-L", "--timeout"); !strings.Contains(got, "900 60 300") {
		t.Fatalf("ipvsadm -L --timeout after changing only tcp_fin to 60:\n%s", got)
	}
}
