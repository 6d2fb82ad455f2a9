package faults

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/need"
)

// fault is one case: what it does to a running pair (d1 master).
type fault struct {
	name string
	reps int // repetitions in the full run (CI: 1)
	ci   bool
	do   func(p *pair)
}

func pause(node string, d time.Duration) func(p *pair) {
	return func(p *pair) {
		pid := p.vrrpPID(node)
		_ = syscall.Kill(pid, syscall.SIGSTOP)
		time.Sleep(d)
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
}

func linkDown(node string, d time.Duration) func(p *pair) {
	return func(p *pair) {
		p.ipNS(node, "link", "set", "eth0", "down")
		time.Sleep(d)
		p.ipNS(node, "link", "set", "eth0", "up")
	}
}

// dropVRRP drops incoming adverts on the nodes for d (all of them, or
// pct percent at random) with an nftables table of the test's own.
func dropVRRP(d time.Duration, pct int, nodes ...string) func(p *pair) {
	return func(p *pair) {
		rule := "ip protocol vrrp drop"
		if pct < 100 {
			rule = fmt.Sprintf("ip protocol vrrp numgen random mod 100 < %d drop", pct)
		}
		for _, n := range nodes {
			p.nft(n, "add table inet vtfault")
			p.nft(n, "add chain inet vtfault in { type filter hook input priority 0 ; }")
			p.nft(n, "add rule inet vtfault in "+rule)
		}
		time.Sleep(d)
		for _, n := range nodes {
			p.nft(n, "delete table inet vtfault")
		}
	}
}

// killDuringReload SIGKILLs the master's daemon while a reload is in
// progress, then starts it again as a supervisor would.
func killDuringReload(p *pair) {
	p.vips["d1"] = append(p.vips["d1"], "10.99.0.101/24")
	p.write("d1", 150)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if p.impl == "keepalived" {
			_ = p.procs["d1"].Signal(syscall.SIGHUP)
			return
		}
		_, _ = p.topo.Exec(context.Background(), "d1", havsd, "reload", "-s", p.file("d1", ".sock"))
	}()
	time.Sleep(20 * time.Millisecond)
	if p.impl == "keepalived" {
		_ = syscall.Kill(p.vrrpPID("d1"), syscall.SIGKILL)
	}
	_ = p.procs["d1"].Signal(syscall.SIGKILL)
	<-done
	<-p.procs["d1"].Done()
	time.Sleep(time.Second)
	p.vips["d1"] = p.vips["d1"][:1]
	p.write("d1", 150)
	p.start("d1")
}

var vip = netlab.VIP.String() + "/24"

// prio is each director's priority, as newPair configures it.
var prio = map[string]uint8{netlab.D1: 150, netlab.D2: 100}

var faults = []fault{
	{name: "master paused 1s", reps: 10, do: pause("d1", time.Second)},
	{name: "master paused 3s", reps: 10, do: pause("d1", 3*time.Second)},
	{name: "master paused 6s", reps: 10, ci: true, do: pause("d1", 6*time.Second)},
	{name: "master paused 10s", reps: 10, do: pause("d1", 10*time.Second)},
	{name: "backup paused 6s", reps: 10, do: pause("d2", 6*time.Second)},
	{name: "VIP deleted on master", reps: 3, ci: true, do: func(p *pair) { p.ipNS("d1", "addr", "del", vip, "dev", "eth0") }},
	{name: "VIP added on backup", reps: 3, ci: true, do: func(p *pair) { p.ipNS("d2", "addr", "add", vip, "dev", "eth0") }},
	{name: "master link down 2s", reps: 3, ci: true, do: linkDown("d1", 2*time.Second)},
	{name: "backup link down 2s", reps: 3, do: linkDown("d2", 2*time.Second)},
	{name: "backup stops hearing the master 3s", reps: 3, do: dropVRRP(3*time.Second, 100, "d2")},
	{name: "20% advert loss 10s", reps: 5, do: dropVRRP(10*time.Second, 20, "d1", "d2")},
	{name: "50% advert loss 10s", reps: 5, do: dropVRRP(10*time.Second, 50, "d1", "d2")},
	{name: "master killed during reload", reps: 3, ci: true, do: killDuringReload},
	{name: "rolling edit add+remove VIP", reps: 2, ci: true, do: func(p *pair) {
		for _, add := range []bool{true, false} {
			for _, n := range []string{"d2", "d1"} {
				if add {
					p.vips[n] = append(p.vips[n], "10.99.0.101/24")
				} else {
					p.vips[n] = p.vips[n][:1]
				}
				p.write(n, prio[n])
				p.reload(n)
				time.Sleep(time.Second)
			}
		}
	}},
}

// TestFaults runs every case on havsd and keepalived and prints the table.
// havsd must pass each: converged to one holder the client reaches within
// Master_Down_Interval + 1 s of the fault's end, never without a holder for
// longer than Master_Down_Interval + 100 ms, status agreeing with the
// kernel. keepalived's figures are recorded, not judged.
func TestFaults(t *testing.T) {
	need.Root(t, "builds network namespaces")
	need.Binaries(t, "ip", "keepalived")
	full := os.Getenv("HAVSD_FAULTS_FULL") != ""
	only := os.Getenv("HAVSD_FAULTS_CASES") // a substring of the case names to run
	repsEnv, _ := strconv.Atoi(os.Getenv("HAVSD_FAULTS_REPS"))
	impls := []string{"havsd", "keepalived"}
	if i := os.Getenv("HAVSD_FAULTS_IMPL"); i != "" {
		impls = []string{i}
	}
	type row struct{ name, havsd, keepalived string }
	var rows []row
	for _, f := range faults {
		if !full && !f.ci && only == "" || only != "" && !strings.Contains(f.name, only) {
			continue
		}
		reps := 1
		if full {
			reps = f.reps
		}
		if repsEnv > 0 {
			reps = repsEnv
		}
		r := row{name: fmt.Sprintf("%s (×%d)", f.name, reps)}
		for _, impl := range impls {
			t.Run(strings.ReplaceAll(f.name, " ", "_")+"/"+impl, func(t *testing.T) {
				var recs []record
				for range reps {
					p := newPair(t, impl)
					rec := p.observe(func() { f.do(p) })
					t.Logf("%s: %s", impl, rec)
					recs = append(recs, rec)
					if impl == "havsd" {
						judge(t, rec)
					}
				}
				s := summary(recs)
				if impl == "havsd" {
					r.havsd = s
				} else {
					r.keepalived = s
				}
			})
		}
		if r.havsd != "" || r.keepalived != "" { // not left out by -run
			rows = append(rows, r)
		}
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "case\thavsd\tkeepalived 2.2.7")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.name, r.havsd, r.keepalived)
	}
	w.Flush()
	t.Logf("fault table (worst over the repetitions, median gap in brackets; gap = longest client gap, lost probes, longest 0-holder and 2-holder stretch, most holders in a sample until/after the fault's end, repetitions converged, latest convergence after the fault):\n%s", b.String())
}

func judge(t *testing.T, r record) {
	t.Helper()
	switch {
	case !r.converged:
		t.Errorf("havsd did not converge to one holder the client reaches: %s", r)
	case r.converge > mdi+time.Second:
		t.Errorf("havsd converged after %v, more than Master_Down_Interval + 1 s: %s", r.converge, r)
	case r.zeroFor > mdi+100*time.Millisecond+sampleIv:
		t.Errorf("no holder for %v, more than Master_Down_Interval + 100 ms: %s", r.zeroFor, r)
	case !r.statusAgree:
		t.Errorf("status held_vips disagrees with the kernel: %s", r)
	}
}

// summary is the worst of each figure over the repetitions, with the
// median gap.
func summary(rs []record) string {
	if len(rs) == 0 {
		return "not run"
	}
	var w record
	conv := 0
	gaps := make([]time.Duration, 0, len(rs))
	for _, r := range rs {
		w.gap, w.lost, w.sent = max(w.gap, r.gap), max(w.lost, r.lost), max(w.sent, r.sent)
		w.zeroFor, w.twoFor, w.converge = max(w.zeroFor, r.zeroFor), max(w.twoFor, r.twoFor), max(w.converge, r.converge)
		w.maxDuring, w.maxAfter = max(w.maxDuring, r.maxDuring), max(w.maxAfter, r.maxAfter)
		gaps = append(gaps, r.gap)
		if r.converged {
			conv++
		}
	}
	slices.Sort(gaps)
	return fmt.Sprintf("gap %s (%s), lost %d, 0h %s, 2h %s, holders %d/%d, conv %d/%d +%s",
		ms(w.gap), ms(gaps[len(gaps)/2]), w.lost, ms(w.zeroFor), ms(w.twoFor), w.maxDuring, w.maxAfter, conv, len(rs), ms(w.converge))
}
