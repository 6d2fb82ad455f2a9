package netns

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/test/netns/vrnet"
	"github.com/havsd/havsd/vrrp"
)

// TestVRRPKeepalivedInterop runs havsd beside keepalived 2.x, v2 and v3,
// multicast and unicast, each side master in turn: each accepts the
// other's adverts and failover works both ways.
func TestVRRPKeepalivedInterop(t *testing.T) {
	for _, version := range []int{2, 3} {
		for _, unicast := range []bool{false, true} {
			for _, havsdMaster := range []bool{true, false} {
				mode := "multicast"
				if unicast {
					mode = "unicast"
				}
				who := "keepalived master"
				if havsdMaster {
					who = "havsd master"
				}
				t.Run(fmt.Sprintf("v%d %s %s", version, mode, who), func(t *testing.T) {
					vrInterop(t, version, unicast, havsdMaster)
				})
			}
		}
	}
}

func vrInterop(t *testing.T, version int, unicast, havsdMaster bool) {
	l := newVRLab(t, "keepalived")
	iv := time.Second
	if version == 3 {
		iv = 100 * time.Millisecond
	}
	hp, kp := uint8(100), uint8(200)
	if havsdMaster {
		hp, kp = 200, 100
	}
	cfg := vrConfig("havsd", hp, version, iv)
	ks := vrnet.KeepalivedSpec{Version: version, Priority: kp, Interval: iv, VIP: vrVIP + "/24", VRID: 51}
	if version == 2 {
		cfg.AuthPass, ks.AuthPass = "secret", "secret"
	}
	if unicast {
		cfg = vrUnicast(cfg, "10.9.0.1", "10.9.0.2")
		ks.UnicastSrc, ks.UnicastPeer = "10.9.0.2", []string{"10.9.0.1"}
	}
	mdi := vrrp.MasterDownInterval(version, 100, iv)
	h := l.start(t, l.d1, cfg)
	k := vrnet.StartKeepalived(t, l.d2, "keepalived", ks)
	var master, backup interface {
		WaitState(vrrp.State, time.Duration) time.Duration
	} = h, k
	if !havsdMaster {
		master, backup = k, h
	}
	master.WaitState(vrrp.StateMaster, 2*mdi+5*time.Second)
	backup.WaitState(vrrp.StateBackup, 2*mdi+5*time.Second)
	time.Sleep(5 * iv) // a few adverts each way
	if h.State() != vrrp.StateMaster && havsdMaster || h.State() != vrrp.StateBackup && !havsdMaster {
		t.Fatalf("havsd %v, keepalived %v: no stable election", h.State(), k.State())
	}
	st := h.Status()
	t.Logf("havsd %v: sent %d, received %d, drops %s", st.State, st.Sent, st.Received, dropsString(st.Drops))
	if len(st.Drops) != 0 {
		t.Errorf("havsd dropped keepalived's adverts: %s", dropsString(st.Drops))
	}
	if !havsdMaster && st.Received == 0 {
		t.Errorf("havsd backup received no advert from keepalived")
	}
	if c := k.Complaints(); len(c) > 0 {
		t.Errorf("keepalived complained about havsd's adverts:\n%s", strings.Join(c, "\n"))
	}

	if havsdMaster {
		// havsd crashes → keepalived takes over; havsd comes back and preempts.
		start := time.Now()
		h.Kill()
		k.WaitState(vrrp.StateMaster, mdi+2*time.Second)
		t.Logf("havsd crashed: keepalived MASTER after %v", time.Since(start).Round(time.Millisecond))
		h = l.start(t, l.d1, cfg)
		h.WaitState(vrrp.StateMaster, 2*mdi+5*time.Second)
		k.WaitState(vrrp.StateBackup, 5*time.Second)
		// Graceful stop of havsd: keepalived takes over after its Skew_Time.
		start = time.Now()
		h.Signal(syscall.SIGTERM)
		k.WaitState(vrrp.StateMaster, mdi+2*time.Second)
		t.Logf("havsd stopped: keepalived MASTER after %v", time.Since(start).Round(time.Millisecond))
	} else {
		// keepalived stops gracefully (priority 0) → havsd takes over after Skew_Time.
		start := time.Now()
		k.Stop()
		h.WaitState(vrrp.StateMaster, mdi+2*time.Second)
		ev := h.Events()
		t.Logf("keepalived stopped: havsd MASTER after %v (Skew_Time %v)", ev[len(ev)-1].At.Sub(start).Round(time.Millisecond), vrrp.SkewTime(version, hp, iv))
		// keepalived comes back with the higher priority and preempts havsd.
		k = vrnet.StartKeepalived(t, l.d2, "keepalived2", ks)
		k.WaitState(vrrp.StateMaster, 2*mdi+5*time.Second)
		h.WaitState(vrrp.StateBackup, 5*time.Second)
		// keepalived crashes → havsd takes over after Master_Down_Interval.
		start = time.Now()
		k.Crash()
		h.WaitState(vrrp.StateMaster, mdi+2*time.Second)
		t.Logf("keepalived crashed: havsd MASTER after %v (Master_Down_Interval %v)", time.Since(start).Round(time.Millisecond), mdi)
	}
	vrWaitAddr(t, l.d1, havsdMaster == false)
}
