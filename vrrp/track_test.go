package vrrp

import "testing"

// TestTrackFault: a tracker fault takes a master to FAULT with the reason
// and releases its VIPs; the backup takes over; clearing the fault brings
// the instance back through the election (it preempts again).
func TestTrackFault(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	b := lb.start(testConfig("b", 100), "10.0.0.2")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster && b.state() == StateBackup })
	const why = `vrrp_script "chk" failed (exit 1)`
	a.inst.SetTrackFault(why)
	lb.waitFor("a in FAULT, b master", func() bool { return a.state() == StateFault && b.state() == StateMaster })
	if s := a.inst.Status(); s.FaultReason != why || a.vips.has(vip100) {
		t.Errorf("fault reason %q, VIP kept %v", s.FaultReason, a.vips.has(vip100))
	}
	a.inst.SetTrackFault("")
	lb.waitFor("a master again", func() bool { return a.state() == StateMaster && a.vips.has(vip100) && b.state() == StateBackup })
}
