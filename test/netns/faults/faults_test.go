// Package faults runs the same faults on a havsd pair and on a keepalived
// pair in the same namespace topology, under a client probing the VIP every
// 5 ms, and prints a table of what the client and the kernels saw.
//
// CI runs a smoke subset (one repetition per case). The full suite, with
// every pause length and ten repetitions of each pause (five of each
// random loss, three of the rest), runs with HAVSD_FAULTS_FULL=1; -run
// splits it (TestFaults/master_paused_6s/havsd):
//
//	HAVSD_FAULTS_FULL=1 go test -count=1 -v -timeout 60m ./test/netns/faults
//
// HAVSD_FAULTS_CASES=loss runs only the cases whose name contains "loss";
// HAVSD_FAULTS_REPS=N repeats each case N times instead;
// HAVSD_FAULTS_IMPL=havsd runs one implementation only;
// HAVSD_FAULTS_LOGS=N shows the last N lines of the daemons' logs after each run;
// HAVSD_FAULTS_BIN uses a prebuilt havsd instead of building one.
package faults

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/netns/vrnet"
	"github.com/havsd/havsd/vrrp"
)

var havsd string // built by TestMain

const (
	advert   = 100 * time.Millisecond
	probeIvl = 5 * time.Millisecond
	probeTO  = 100 * time.Millisecond
	sampleIv = 50 * time.Millisecond
)

// mdi is the backup's (priority 100) Master_Down_Interval.
var mdi = vrrp.MasterDownInterval(3, 100, advert)

func TestMain(m *testing.M) {
	// Descriptors inherited from the caller (the heavy-test lock of
	// `flock LOCK go test`) must not reach the daemons, which run in
	// process groups of their own and could outlive a killed test.
	_ = unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if name := os.Getenv("HAVSD_FAULTS_RESPONDER"); name != "" {
		respond(name)
		return
	}
	if bin := os.Getenv("HAVSD_FAULTS_BIN"); bin != "" {
		havsd = bin // a prebuilt binary
		os.Exit(m.Run())
	}
	if os.Geteuid() == 0 {
		dir, err := os.MkdirTemp("", "vt-faults")
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		havsd = filepath.Join(dir, "havsd")
		if out, err := exec.Command("go", "build", "-o", havsd, "github.com/havsd/havsd/cmd/havsd").CombinedOutput(); err != nil {
			fmt.Printf("building havsd: %v\n%s", err, out)
			os.Exit(1)
		}
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// respond answers every TCP connection on :80 with the node's name.
func respond(name string) {
	ln, err := net.Listen("tcp", ":80")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		fmt.Fprintln(c, name)
		c.Close()
	}
}

// pair is two directors (d1 priority 150, d2 100) of one implementation.
type pair struct {
	t     *testing.T
	impl  string // "havsd" or "keepalived"
	topo  *netlab.Topology
	dir   string
	procs map[string]*netlab.Proc
	vips  map[string][]string // per node, the VIPs configured
}

func newPair(t *testing.T, impl string) *pair {
	t.Helper()
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	spec := netlab.Pair("vt"+hex.EncodeToString(b)+"-", netlab.ModeDR, 0)
	spec.StateDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tp, err := netlab.Build(ctx, spec)
	if err != nil {
		t.Fatalf("building topology: %v", err)
	}
	p := &pair{t: t, impl: impl, topo: tp, dir: t.TempDir(), procs: map[string]*netlab.Proc{}, vips: map[string][]string{}}
	t.Cleanup(func() {
		for _, pr := range p.procs {
			_ = pr.Signal(syscall.SIGCONT) // a paused director must be able to stop
		}
		if lines := logLines(t); lines > 0 {
			for _, n := range netlab.Directors {
				b, _ := os.ReadFile(filepath.Join(p.dir, n+".log"))
				t.Logf("%s %s log (tail):\n%s", impl, n, tail(string(b), lines))
			}
		}
		if err := tp.Close(); err != nil {
			t.Errorf("tearing down: %v", err)
		}
	})
	for i, n := range netlab.Directors {
		if _, err := tp.Start(n, "responder", []string{os.Args[0]}, netlab.ProcOptions{Env: []string{"HAVSD_FAULTS_RESPONDER=" + n}}); err != nil {
			t.Fatal(err)
		}
		p.vips[n] = []string{netlab.VIP.String() + "/24"}
		p.write(n, uint8(150-50*i))
		p.start(n)
	}
	p.waitHolders("d1 holds the VIP", 20*time.Second, "d1")
	return p
}

// logLines is how many lines of each daemon's log to show after a run:
// 30 after a failure, HAVSD_FAULTS_LOGS lines after every run.
func logLines(t *testing.T) int {
	if n, _ := strconv.Atoi(os.Getenv("HAVSD_FAULTS_LOGS")); n > 0 {
		return n
	}
	if t.Failed() {
		return 30
	}
	return 0
}

func tail(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}

func (p *pair) file(node, ext string) string { return filepath.Join(p.dir, node+ext) }

// write renders a director's configuration.
func (p *pair) write(node string, prio uint8) {
	p.t.Helper()
	var text string
	if p.impl == "keepalived" {
		spec := vrnet.KeepalivedSpec{Version: 3, Priority: prio, Interval: advert, VRID: 51, VIP: p.vips[node][0]}
		text = spec.Conf(node)
		for _, v := range p.vips[node][1:] {
			text = strings.Replace(text, "dev eth0\n", "dev eth0\n    "+v+" dev eth0\n", 1)
		}
	} else {
		q := make([]string, len(p.vips[node]))
		for i, v := range p.vips[node] {
			q[i] = fmt.Sprintf("%q", v)
		}
		text = fmt.Sprintf(`global {
  router_id      = %q
  control_socket = %q
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = %d
  version           = 3
  advert_interval   = "100ms"
  virtual_ipaddress = [%s]
}
`, node, p.file(node, ".sock"), prio, strings.Join(q, ", "))
	}
	if err := os.WriteFile(p.file(node, ".conf"), []byte(text), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *pair) start(node string) {
	p.t.Helper()
	log, err := os.OpenFile(p.file(node, ".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { log.Close() })
	argv := []string{havsd, "run", "-f", p.file(node, ".conf")}
	if p.impl == "keepalived" {
		argv = []string{"keepalived", "--vrrp", "-n", "-l", "-D", "-f", p.file(node, ".conf"),
			"-p", p.file(node, ".pid"), "-r", p.file(node, ".vrrp.pid")}
	}
	proc, err := p.topo.Start(node, p.impl, argv, netlab.ProcOptions{Out: log})
	if err != nil {
		p.t.Fatal(err)
	}
	p.procs[node] = proc
}

// vrrpPID is the process that runs VRRP on a node: havsd itself, or
// keepalived's VRRP child.
func (p *pair) vrrpPID(node string) int {
	if p.impl == "havsd" {
		return p.procs[node].PID
	}
	b, err := os.ReadFile(p.file(node, ".vrrp.pid"))
	if err != nil {
		p.t.Fatalf("keepalived VRRP pid: %v", err)
	}
	var pid int
	fmt.Sscan(strings.TrimSpace(string(b)), &pid)
	return pid
}

// reload makes a director re-read its configuration.
func (p *pair) reload(node string) {
	p.t.Helper()
	if p.impl == "keepalived" {
		_ = p.procs[node].Signal(syscall.SIGHUP)
		return
	}
	out, err := exec.Command("ip", "netns", "exec", p.topo.NS(node), havsd, "reload", "-s", p.file(node, ".sock")).CombinedOutput()
	if err != nil {
		p.t.Fatalf("havsd reload on %s: %v: %s", node, err, out)
	}
}

// holders returns the directors whose eth0 holds the VIP now.
func (p *pair) holders() []string {
	var out []string
	for _, n := range netlab.Directors {
		if p.has(n, netlab.VIP.String()) {
			out = append(out, n)
		}
	}
	return out
}

// sampleHolders counts the VIP's holders for one sample. The two
// namespaces cannot be read at once: a handover from d2 to d1 (d1 adds,
// then d2 removes) that falls between the reads of d1 and d2 would read as
// no holder. d1 is read again after d2, so a sample of zero means there
// was an instant with no holder: d2 had removed the VIP (before its read)
// before d1 added it (after its second read). A handover from d1 to d2
// (d2 adds first) cannot read as zero in this order.
func (p *pair) sampleHolders() int {
	addr := netlab.VIP.String()
	d1, d2 := p.has(netlab.D1, addr), p.has(netlab.D2, addr)
	n := 0
	if d1 {
		n++
	}
	if d2 {
		n++
	}
	if n == 0 && p.has(netlab.D1, addr) {
		n = 1
	}
	return n
}

func (p *pair) has(node, addr string) bool {
	h, err := netns.GetFromName(p.topo.NS(node))
	if err != nil {
		return false
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		return false
	}
	defer nh.Close()
	l, err := nh.LinkByName("eth0")
	if err != nil {
		return false
	}
	as, err := nh.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return false
	}
	for _, a := range as {
		if a.IP.String() == addr {
			return true
		}
	}
	return false
}

func (p *pair) waitHolders(what string, d time.Duration, want ...string) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for strings.Join(p.holders(), ",") != strings.Join(want, ",") {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s %s: holders %v after %v", p.impl, what, p.holders(), d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nft runs an nft command in a node's namespace.
func (p *pair) nft(node, cmd string) {
	p.t.Helper()
	if out, err := p.topo.Exec(context.Background(), node, append([]string{"nft"}, strings.Fields(cmd)...)...); err != nil {
		p.t.Fatalf("nft %s in %s: %v: %s", cmd, node, err, out)
	}
}

// ipNS runs ip in a node's namespace.
func (p *pair) ipNS(node string, args ...string) {
	p.t.Helper()
	if err := p.topo.IP(context.Background(), node, args...); err != nil {
		p.t.Fatal(err)
	}
}

// heldVIPsInStatus reads havsd's status and returns the held_vips of VI_1.
func (p *pair) heldVIPsInStatus(node string) ([]string, error) {
	out, err := exec.Command("ip", "netns", "exec", p.topo.NS(node), havsd, "status", "--json", "-s", p.file(node, ".sock")).Output()
	// Exit code 4 (every instance in FAULT or stopped) still prints the
	// document: a state, not a failed command.
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 4) {
		return nil, err
	}
	var st struct {
		Instances []struct {
			HeldVIPs []string `json:"held_vips"`
		} `json:"instances"`
	}
	if err := json.Unmarshal(out, &st); err != nil || len(st.Instances) == 0 {
		return nil, fmt.Errorf("status: %v: %s", err, out)
	}
	return st.Instances[0].HeldVIPs, nil
}

// record is what one run of a case saw.
type record struct {
	gap         time.Duration // longest time between two successful probes
	gapAt       time.Time     // when it began (the last probe answered before it)
	lost, sent  int
	zeroFor     time.Duration // longest stretch of samples with no holder
	twoFor      time.Duration // longest stretch with two holders
	maxDuring   int           // most holders in one sample while the fault lasted
	maxAfter    int           // most holders in one sample after the fault's end
	converge    time.Duration // from the end of the fault to one stable holder the client reaches
	converged   bool
	statusAgree bool // havsd: status held_vips matches the kernel on both nodes
}

func (r record) String() string {
	s := fmt.Sprintf("gap %s (from %s), lost %d/%d, 0 holders %s, 2 holders %s, max holders %d during/%d after",
		ms(r.gap), r.gapAt.UTC().Format("15:04:05.000"), r.lost, r.sent, ms(r.zeroFor), ms(r.twoFor), r.maxDuring, r.maxAfter)
	if !r.converged {
		return s + ", NOT CONVERGED"
	}
	return s + ", converged +" + ms(r.converge)
}

func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

// observe probes the VIP and samples the holders while fault runs, then
// until one holder answers steadily for settle (at most bound after the
// fault).
func (p *pair) observe(fault func()) record {
	p.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu      sync.Mutex
		r       record
		lastOK  = time.Now()
		samples []int // holders per sample
		ended   bool  // the fault is over
	)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = p.topo.Do(netlab.Client, func() error {
			tick := time.NewTicker(probeIvl)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
				c, err := net.DialTimeout("tcp", net.JoinHostPort(netlab.VIP.String(), "80"), probeTO)
				mu.Lock()
				r.sent++
				if err != nil {
					r.lost++
				} else {
					c.Close()
					if g := time.Since(lastOK); g > r.gap {
						r.gap, r.gapAt = g, lastOK
					}
					lastOK = time.Now()
				}
				mu.Unlock()
			}
		})
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(sampleIv)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n := p.sampleHolders()
			mu.Lock()
			samples = append(samples, n)
			if ended {
				r.maxAfter = max(r.maxAfter, n)
			} else {
				r.maxDuring = max(r.maxDuring, n)
			}
			mu.Unlock()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	fault()
	end := time.Now()
	mu.Lock()
	ended = true
	mu.Unlock()
	// Converged: one holder in the last 10 samples taken after the fault
	// (500 ms), and the client answered just now.
	bound := mdi + 5*time.Second
	mu.Lock()
	first := len(samples) // the first sample after the fault
	mu.Unlock()
	for {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		one := time.Since(lastOK) < 50*time.Millisecond && len(samples)-first >= 10
		for _, n := range samples[max(first, len(samples)-10):] {
			one = one && n == 1
		}
		mu.Unlock()
		if one {
			r.converged, r.converge = true, max(0, time.Since(end)-500*time.Millisecond)
			break
		}
		if time.Since(end) > bound {
			break
		}
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if g := time.Since(lastOK); g > r.gap {
		r.gap, r.gapAt = g, lastOK
	}
	var zero, two time.Duration
	for _, n := range samples {
		zero, two = next(zero, n == 0), next(two, n == 2)
		r.zeroFor, r.twoFor = max(r.zeroFor, zero), max(r.twoFor, two)
	}
	if p.impl == "havsd" && r.converged {
		r.statusAgree = true
		for _, n := range netlab.Directors {
			held, err := p.heldVIPsInStatus(n)
			kernel := p.has(n, netlab.VIP.String())
			if err != nil || (len(held) == 1) != kernel {
				r.statusAgree = false
				p.t.Logf("%s: status held_vips %v (err %v), kernel holds the VIP: %v", n, held, err, kernel)
			}
		}
	}
	return r
}

func next(run time.Duration, on bool) time.Duration {
	if on {
		return run + sampleIv
	}
	return 0
}
