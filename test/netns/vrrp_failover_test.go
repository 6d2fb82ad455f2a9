package netns

import (
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/test/netns/vrnet"
	"github.com/havsd/havsd/test/poll"
	"github.com/havsd/havsd/vrrp"
)

// TestVRRPFailover: the higher priority wins; SIGKILL with its link pulled
// → the backup takes over and the client follows; restart → preemption;
// SIGTERM → takeover after about Skew_Time with make-before-break;
// restart with nopreempt → no preemption.
func TestVRRPFailover(t *testing.T) {
	for _, tc := range []struct {
		name     string
		version  int
		interval time.Duration
	}{
		{"v3 100ms", 3, 100 * time.Millisecond},
		{"v2 1s", 2, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) { vrFailover(t, tc.version, tc.interval) })
	}
}

func vrFailover(t *testing.T, version int, iv time.Duration) {
	l := newVRLab(t)
	c1, c2 := vrConfig("d1", 200, version, iv), vrConfig("d2", 100, version, iv)
	if version == 2 {
		c1.AuthPass, c2.AuthPass = "secret", "secret"
	}
	mdi := vrrp.MasterDownInterval(version, 100, iv)
	d1, d2 := l.startPair(t, c1, c2, mdi)
	if !l.d1.HasAddr(vrVIP) || l.d2.HasAddr(vrVIP) {
		t.Fatalf("VIP on d1 %v, on d2 %v; want d1 only", l.d1.HasAddr(vrVIP), l.d2.HasAddr(vrVIP))
	}
	waitReach(t, l.client, "d1", 5*time.Second)

	// Crash: SIGKILL and the link pulled.
	p := startProber(l.client, vrVIP+vrPort)
	killed := time.Now()
	d1.Kill()
	l.MustIP(l.d1.NS, "link", "set", "eth0", "down")
	d2.WaitState(vrrp.StateMaster, 2*mdi+time.Second)
	took := time.Since(killed)
	waitReach(t, l.client, "d2", 5*time.Second)
	gap, failed, _ := p.finish()
	t.Logf("crash (v%d, %v): d2 MASTER after %v (Master_Down_Interval %v); client gap %v, %d probes failed",
		version, iv, took.Round(time.Millisecond), mdi, gap.Round(time.Millisecond), failed)
	if took > mdi+time.Second {
		t.Errorf("takeover after %v, more than Master_Down_Interval %v + 1s", took, mdi)
	}

	// Restart d1: it removes its stale VIP, then preempts.
	l.MustIP(l.d1.NS, "link", "set", "eth0", "up")
	d1 = l.start(t, l.d1, c1)
	vrSettled(d1, d2, mdi)
	vrWaitAddr(t, l.d2, false)
	waitReach(t, l.client, "d1", 5*time.Second)

	// Graceful stop: d2 takes over after about Skew_Time, d1 keeps the VIP
	// until then.
	p = startProber(l.client, vrVIP+vrPort)
	stopped := time.Now()
	d1.Signal(syscall.SIGTERM)
	d2.WaitState(vrrp.StateMaster, mdi+time.Second)
	took = time.Since(stopped)
	if code := d1.Wait(mdi + 2*time.Second); code != 0 {
		t.Errorf("d1 exited with %d after SIGTERM", code)
	}
	waitReach(t, l.client, "d2", 5*time.Second)
	gap, failed, who := p.finish()
	t.Logf("graceful (v%d, %v): d2 MASTER after %v (Skew_Time %v); client gap %v, %d probes failed, answered by %v",
		version, iv, took.Round(time.Millisecond), vrrp.SkewTime(version, 100, iv), gap.Round(time.Millisecond), failed, who)
	if l.d1.HasAddr(vrVIP) {
		t.Errorf("d1 still holds the VIP after a graceful stop")
	}
	if took > mdi {
		t.Errorf("graceful takeover after %v, more than Master_Down_Interval %v", took, mdi)
	}

	// nopreempt: d1 comes back with a higher priority but stays backup.
	c1.Preempt = false
	d1 = l.start(t, l.d1, c1)
	d1.WaitState(vrrp.StateBackup, 5*time.Second)
	if !poll.Holds(2*mdi+500*time.Millisecond, func() bool { return d1.State() == vrrp.StateBackup && d2.State() == vrrp.StateMaster }) {
		t.Fatalf("nopreempt: d1 %v d2 %v, want BACKUP MASTER", d1.State(), d2.State())
	}
}

func vrWaitAddr(t *testing.T, n interface{ HasAddr(string) bool }, want bool) {
	t.Helper()
	poll.Until(t, 5*time.Second, fmt.Sprintf("VIP presence %v", want), func() bool { return n.HasAddr(vrVIP) == want })
}

// TestVRRPSplitBrain cuts d2 off (both become master), heals, and checks
// one master remains within about one advert interval, the loser's VIP
// removed and the client reaching the winner.
func TestVRRPSplitBrain(t *testing.T) {
	l := newVRLab(t)
	iv := 100 * time.Millisecond
	// Equal priorities: the higher primary address (d2) wins the tie-break.
	d1 := l.start(t, l.d1, vrConfig("d1", 100, 3, iv))
	d2 := l.start(t, l.d2, vrConfig("d2", 100, 3, iv))
	mdi := vrrp.MasterDownInterval(3, 100, iv)
	vrWaitOne(t, d1, d2, 2*mdi+2*time.Second)

	l.SetPort(l.d2, false)
	d1.WaitState(vrrp.StateMaster, 2*mdi+time.Second)
	d2.WaitState(vrrp.StateMaster, 2*mdi+time.Second)
	time.Sleep(3 * iv) // both masters for a while: the client may learn either
	healed := time.Now()
	l.SetPort(l.d2, true)
	took := d1.WaitState(vrrp.StateBackup, 5*time.Second)
	t.Logf("split brain healed: d1 BACKUP %v after the link came back (advert interval %v)", took.Round(time.Millisecond), iv)
	if d2.State() != vrrp.StateMaster {
		t.Errorf("d2 %v after heal, want MASTER", d2.State())
	}
	vrWaitAddr(t, l.d1, false)
	waitReach(t, l.client, "d2", 5*time.Second)
	if took > mdi {
		t.Errorf("heal took %v (since %v), more than Master_Down_Interval %v", took, healed.Format(time.StampMilli), mdi)
	}
}

// vrWaitOne waits until exactly one of two directors is master.
func vrWaitOne(t *testing.T, a, b interface{ State() vrrp.State }, timeout time.Duration) {
	t.Helper()
	one := func() bool {
		sa, sb := a.State(), b.State()
		return (sa == vrrp.StateMaster) != (sb == vrrp.StateMaster) && (sa == vrrp.StateBackup || sb == vrrp.StateBackup)
	}
	if !poll.For(timeout, one) {
		t.Fatalf("states %v %v, want one MASTER and one BACKUP", a.State(), b.State())
	}
}

// TestVRRPHandover: a planned handover (SIGUSR2 in the helper calls
// Instance.Handover) moves the VIP with make-before-break; the old master
// stays a backup that does not preempt until the new master fails.
func TestVRRPHandover(t *testing.T) {
	l := newVRLab(t)
	iv := 100 * time.Millisecond
	mdi := vrrp.MasterDownInterval(3, 100, iv)
	d1, d2 := l.startPair(t, vrConfig("d1", 200, 3, iv), vrConfig("d2", 100, 3, iv), mdi)
	waitReach(t, l.client, "d1", 5*time.Second)
	p := startProberTimeout(l.client, vrVIP+vrPort, 20*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	d1.Signal(syscall.SIGUSR2)
	d2.WaitState(vrrp.StateMaster, mdi)
	took := time.Since(start)
	d1.WaitState(vrrp.StateBackup, mdi)
	waitReach(t, l.client, "d2", 5*time.Second)
	gap, failed, who := p.finish()
	t.Logf("handover: d2 MASTER after %v; client gap %v, %d probes failed, answered by %v", took.Round(time.Millisecond), gap.Round(time.Millisecond), failed, who)
	if failed > 1 {
		t.Errorf("%d probes lost during a planned handover", failed)
	}
	if s := d1.Status(); !s.Yielding || l.d1.HasAddr(vrVIP) {
		t.Errorf("d1 after handover: yielding %v, holds VIP %v", s.Yielding, l.d1.HasAddr(vrVIP))
	}
	if !poll.Holds(2*mdi, func() bool { return d1.State() == vrrp.StateBackup }) {
		t.Fatalf("d1 preempted back after a handover: %v", d1.State())
	}
	d2.Kill()
	d1.WaitState(vrrp.StateMaster, mdi+time.Second)
}

// TestVRRPTrackedInterface: a tracked link going down (netlink
// subscription) puts the master in FAULT; the backup takes over; the link
// coming back lets it preempt again.
func TestVRRPTrackedInterface(t *testing.T) {
	l := newVRLab(t)
	iv := 100 * time.Millisecond
	mdi := vrrp.MasterDownInterval(3, 100, iv)
	// trk0 loses its carrier when its veth peer trk1 goes down.
	l.MustIP(l.d1.NS, "link", "add", "trk0", "type", "veth", "peer", "name", "trk1")
	l.MustIP(l.d1.NS, "link", "set", "trk0", "up")
	l.MustIP(l.d1.NS, "link", "set", "trk1", "up")
	c1 := vrConfig("d1", 200, 3, iv)
	c1.Track = []vrrp.TrackInterface{{Name: "trk0"}}
	d1, d2 := l.startPair(t, c1, vrConfig("d2", 100, 3, iv), mdi)
	l.MustIP(l.d1.NS, "link", "set", "trk1", "down")
	d1.WaitState(vrrp.StateFault, 2*time.Second)
	took := d2.WaitState(vrrp.StateMaster, mdi)
	t.Logf("tracked link down: d2 MASTER %v after d1 FAULT (priority-0 advert)", took.Round(time.Millisecond))
	vrWaitAddr(t, l.d1, false)
	l.MustIP(l.d1.NS, "link", "set", "trk1", "up")
	vrSettled(d1, d2, mdi)
}

// TestVRRPSyncGroup: two instances per director in a sync group (as NAT
// needs the external VIP and the real servers' gateway together). The
// master's tracked link failing puts both its instances in FAULT and the
// other director takes both VIPs.
func TestVRRPSyncGroup(t *testing.T) {
	l := newVRLab(t)
	iv := 100 * time.Millisecond
	mdi := vrrp.MasterDownInterval(3, 100, iv)
	const vip2 = "10.9.0.101"
	l.MustIP(l.d1.NS, "link", "add", "trk0", "type", "veth", "peer", "name", "trk1")
	l.MustIP(l.d1.NS, "link", "set", "trk0", "up")
	l.MustIP(l.d1.NS, "link", "set", "trk1", "up")
	pair := func(node string, prio uint8) (vrrp.Config, vrrp.Config) {
		ext := vrConfig(node+"-ext", prio, 3, iv)
		in := vrConfig(node+"-int", prio, 3, iv)
		in.VRID = 52
		in.VIPs = []vrrp.VIP{{Prefix: netip.MustParsePrefix(vip2 + "/24")}}
		return ext, in
	}
	e1, i1 := pair("d1", 200)
	e1.Track = []vrrp.TrackInterface{{Name: "trk0"}}
	e2, i2 := pair("d2", 100)
	d1 := vrnet.StartDirector(t, l.d1, vrHelper, vrnet.HelperSpec{Node: "d1", Config: e1, Extra: []vrrp.Config{i1}, Group: "nat"})
	d2 := vrnet.StartDirector(t, l.d2, vrHelper, vrnet.HelperSpec{Node: "d2", Config: e2, Extra: []vrrp.Config{i2}, Group: "nat"})
	d1.WaitStateOf("d1-ext", vrrp.StateMaster, 2*mdi+2*time.Second)
	d1.WaitStateOf("d1-int", vrrp.StateMaster, 2*mdi+2*time.Second)
	d2.WaitStateOf("d2-ext", vrrp.StateBackup, 2*time.Second)
	d2.WaitStateOf("d2-int", vrrp.StateBackup, 2*time.Second)

	l.MustIP(l.d1.NS, "link", "set", "trk1", "down")
	d1.WaitStateOf("d1-ext", vrrp.StateFault, 2*time.Second)
	d1.WaitStateOf("d1-int", vrrp.StateFault, 2*time.Second)
	d2.WaitStateOf("d2-ext", vrrp.StateMaster, mdi)
	d2.WaitStateOf("d2-int", vrrp.StateMaster, mdi)
	vrnet.WaitFor(t, "d2 holds both VIPs, d1 none", 5*time.Second, func() bool {
		return l.d2.HasAddr(vrVIP) && l.d2.HasAddr(vip2) && !l.d1.HasAddr(vrVIP) && !l.d1.HasAddr(vip2)
	})
	if s := d2.Status(); len(s.Drops) != 0 {
		t.Errorf("d2-ext counted drops (siblings' adverts?): %s", dropsString(s.Drops))
	}

	l.MustIP(l.d1.NS, "link", "set", "trk1", "up")
	d1.WaitStateOf("d1-ext", vrrp.StateMaster, 2*mdi+2*time.Second)
	d1.WaitStateOf("d1-int", vrrp.StateMaster, 2*mdi+2*time.Second)
	d2.WaitStateOf("d2-ext", vrrp.StateBackup, 2*time.Second)
	d2.WaitStateOf("d2-int", vrrp.StateBackup, 2*time.Second)
}
