package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

// TestVIPDriftRepaired: a VIP deleted behind the master's back comes back
// (and is announced); one added by hand on the backup goes; status shows
// the kernel's truth.
func TestVIPDriftRepaired(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	b := lb.start(testConfig("b", 100), "10.0.0.2")
	lb.waitFor("a master, b backup", func() bool { return a.state() == StateMaster && b.state() == StateBackup })
	lb.waitFor("status shows the kernel's VIP", func() bool { return len(a.inst.Status().VIPs) == 1 })

	ann := a.vips.announced()
	a.vips.drift(vip100, false)
	lb.waitFor("VIP back on the master", func() bool { return a.vips.has(vip100) })
	lb.waitFor("re-announced", func() bool { return a.vips.announced() > ann })
	if a.state() != StateMaster {
		t.Errorf("master state %v after repair", a.state())
	}

	b.vips.drift(vip100, true)
	lb.waitFor("VIP removed from the backup", func() bool { return !b.vips.has(vip100) })
	if s := b.inst.Status(); len(s.VIPs) != 0 || len(s.WantedVIPs) != 0 {
		t.Errorf("backup status VIPs %v wanted %v", s.VIPs, s.WantedVIPs)
	}
	if s := a.inst.Status(); len(s.VIPs) != 1 || len(s.MissingVIPs) != 0 {
		t.Errorf("master status VIPs %v missing %v", s.VIPs, s.MissingVIPs)
	}
}

// TestRollingEditKeepsOneMaster: directors whose VIP lists differ (one
// reloaded before the other) still elect one master; the mismatch is
// counted and listed, then cleared when the lists agree again.
func TestRollingEditKeepsOneMaster(t *testing.T) {
	lb := newLab(t)
	ca, cb := testConfig("a", 200), testConfig("b", 100)
	a := lb.start(ca, "10.0.0.1")
	b := lb.start(cb, "10.0.0.2")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster && b.state() == StateBackup })
	vip2 := netip.MustParsePrefix("192.168.0.101/24")
	cb.VIPs = append(cb.VIPs, VIP{Prefix: vip2})
	if err := b.inst.Update(cb); err != nil {
		t.Fatal(err)
	}
	lb.waitFor("b lists a's mismatch", func() bool { return len(b.inst.Status().PeerVIPMismatch) == 1 })
	lb.clock.Advance(2 * time.Second)
	lb.waitFor("a few adverts", func() bool { return b.inst.Status().VIPMismatchAdverts > 5 })
	if a.state() != StateMaster || b.state() != StateBackup {
		t.Fatalf("after the edit on b: a %v, b %v", a.state(), b.state())
	}
	if d := b.inst.Status().Drops; d["address_count"]+d["address_list"] > 0 {
		t.Errorf("mismatching adverts dropped: %v", d)
	}
	ca.VIPs = cb.VIPs
	if err := a.inst.Update(ca); err != nil {
		t.Fatal(err)
	}
	lb.waitFor("mismatch cleared", func() bool { return len(b.inst.Status().PeerVIPMismatch) == 0 })
	lb.waitFor("a holds both", func() bool { return a.vips.has(vip100) && a.vips.has(vip2) })
	if b.vips.has(vip100) || b.vips.has(vip2) || a.state() != StateMaster {
		t.Errorf("after the edit on both: a %v, b holds %v %v", a.state(), b.vips.has(vip100), b.vips.has(vip2))
	}
}

// TestStalledMasterReleasedAndReelected: the dead-man switch releases the
// VIPs of a master whose loop does not run; when the loop runs again it
// never re-adds them as master without an election first.
func TestStalledMasterReleasedAndReelected(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster })
	if rel, _, _ := a.inst.ReleaseIfStalled(); rel {
		t.Fatal("released the VIPs of a running loop")
	}
	// Freeze the loop: hold the command channel's consumer busy.
	block, unblock := make(chan struct{}), make(chan struct{})
	go a.inst.do(func(*loop) { close(block); <-unblock })
	<-block
	lb.clock.Advance(StallRelease(100*time.Millisecond) + time.Millisecond)
	rel, silent, err := a.inst.ReleaseIfStalled()
	if !rel || err != nil || a.vips.has(vip100) {
		t.Fatalf("ReleaseIfStalled = %v, %v, %v; VIP held %v", rel, silent, err, a.vips.has(vip100))
	}
	close(unblock)
	lb.waitFor("a re-elected master", func() bool {
		ev := a.drain()
		return len(ev) > 0 && ev[len(ev)-1].To == StateMaster && ev[len(ev)-1].From == StateBackup && a.vips.has(vip100)
	})
	var got []string
	for _, e := range a.drain() {
		got = append(got, e.From.String()+">"+e.To.String())
	}
	want := []string{"INIT>BACKUP", "BACKUP>MASTER", "MASTER>BACKUP", "BACKUP>MASTER"}
	if len(got) != len(want) {
		t.Errorf("transitions %v, want %v", got, want)
	}
}

// TestSwitchSparesResumedLoop: once a stalled loop has resumed (its first
// act in an iteration is takeReleased), the dead-man switch no longer
// counts its stall: a master that resumed and was re-elected in the same
// iteration lost its VIPs again (a 6 s SIGSTOP left the pair without a
// holder for ~50 ms).
func TestSwitchSparesResumedLoop(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster })
	block, unblock := make(chan struct{}), make(chan struct{})
	go a.inst.do(func(*loop) { close(block); <-unblock })
	<-block
	lb.clock.Advance(StallRelease(100*time.Millisecond) + time.Millisecond)
	if a.inst.takeReleased() { // what the loop does first when it runs again
		t.Fatal("released before the switch ran")
	}
	rel, silent, err := a.inst.ReleaseIfStalled()
	close(unblock)
	if rel || err != nil || !a.vips.has(vip100) {
		t.Fatalf("switch after the loop resumed: ReleaseIfStalled = %v, %v, %v; VIP held %v", rel, silent, err, a.vips.has(vip100))
	}
}

// TestBackupStallNoFlurry: a backup whose loop stood still longer than
// Master_Down_Interval does not take over on resuming while the master's
// adverts flow.
func TestBackupStallNoFlurry(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	b := lb.start(testConfig("b", 100), "10.0.0.2")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster && b.state() == StateBackup })
	block, unblock := make(chan struct{}), make(chan struct{})
	go b.inst.do(func(*loop) { close(block); <-unblock })
	<-block
	lb.clock.Advance(6 * time.Second)
	close(unblock)
	lb.waitFor("a second of adverts", func() bool { return lb.clock.Now().Sub(t0) > 8*time.Second })
	for _, e := range b.drain() {
		if e.To == StateMaster {
			t.Errorf("backup became master after its stall: %+v", e)
		}
	}
}

// TestInterfaceTrackedByDefault: the instance's own interface going away
// puts it in FAULT with the reason; its return brings it back through the
// election. With DontTrackPrimary the instance ignores a down link.
func TestInterfaceTrackedByDefault(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster })
	a.links.ch <- LinkState{Name: "eth0", Gone: true}
	lb.waitFor("fault", func() bool { return a.state() == StateFault })
	if s := a.inst.Status(); s.FaultReason != "interface eth0 does not exist" || a.vips.has(vip100) {
		t.Errorf("fault reason %q, VIP kept %v", s.FaultReason, a.vips.has(vip100))
	}
	a.links.ch <- LinkState{Name: "eth0", Up: true, Index: 1}
	lb.waitFor("master again", func() bool { return a.state() == StateMaster && a.vips.has(vip100) })

	cfg := testConfig("b", 200)
	cfg.VRID, cfg.DontTrackPrimary = 52, true
	b := lb.start(cfg, "10.0.0.2")
	lb.waitFor("b master", func() bool { return b.state() == StateMaster })
	b.links.ch <- LinkState{Name: "eth0", Up: false, Index: 1}
	lb.clock.Advance(time.Second)
	lb.waitFor("a second later", func() bool { return lb.clock.Now().Sub(t0) > 3*time.Second })
	if b.state() != StateMaster {
		t.Errorf("dont_track_primary: state %v", b.state())
	}
}

// TestResumeEndsYield: Resume reports and ends the yield after a handover.
func TestResumeEndsYield(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	b := lb.start(testConfig("b", 100), "10.0.0.2")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster && b.state() == StateBackup })
	res := make(chan error, 1)
	go func() { res <- a.inst.Handover(t.Context()) }()
	lb.waitFor("handover", func() bool { return len(res) == 1 })
	s := a.inst.Status()
	if !s.Yielding || s.YieldingSince.IsZero() {
		t.Fatalf("after handover: yielding %v since %v", s.Yielding, s.YieldingSince)
	}
	done := make(chan bool, 1)
	go func() { done <- a.inst.Resume() }()
	lb.waitFor("resumed", func() bool { return len(done) == 1 })
	if !<-done {
		t.Error("Resume reported no yield")
	}
	lb.waitFor("a master again", func() bool { return a.state() == StateMaster })
}
