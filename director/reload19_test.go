package director

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

// TestReloadSaysWhatChanged: a reload that replaces an instance (another
// VRID, another version) says so, and that its VIPs go until the new one is
// elected; an updated instance and a changed real server are reported with
// the settings that changed.
func TestReloadSaysWhatChanged(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Instances = []vrrp.Config{instanceCfg("VI_1", 61, 100), instanceCfg("VI_2", 52, 100)}
	h := newHarness(t, cfg)
	vi1 := h.vrrp("VI_1")

	cfg2 := webConfig(true, 0, 0)
	cfg2.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100), instanceCfg("VI_2", 52, 150)}
	cfg2.Instances[1].AdvertInterval = 2 * time.Second
	cfg2.Services[0].Reals[0].Dest.Weight = 5
	cfg2.Services[0].Service.Scheduler = "rr"
	h.next.Store(&Loaded{Config: cfg2})
	st := h.reload()
	for _, want := range []string{
		"instance VI_1 replaced (vrid 61→51): VIPs released until re-election",
		"instance VI_2 updated (priority, advert_interval)",
		"~192.168.0.101:80 (weight)",
		"(scheduler ",
	} {
		if !strings.Contains(st.Summary, want) {
			t.Errorf("reload summary lacks %q:\n%s", want, st.Summary)
		}
	}
	if strings.Contains(st.Summary, "removed") || strings.Contains(st.Summary, "added") {
		t.Errorf("reload summary calls the replacement an addition or removal:\n%s", st.Summary)
	}
	select {
	case <-vi1.stopped:
	case <-time.After(2 * time.Second):
		t.Error("the replaced VI_1 was not stopped")
	}
	h.eventually("the new VI_1", func() bool { v := h.vrrp("VI_1"); return v != nil && v != vi1 && v.cfg.VRID == 51 })

	cfg3 := webConfig(true, 0, 0)
	cfg3.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100), instanceCfg("VI_2", 52, 150)}
	cfg3.Instances[0].Version = 2
	cfg3.Instances[1].AdvertInterval = 2 * time.Second
	h.next.Store(&Loaded{Config: cfg3})
	if st := h.reload(); !strings.Contains(st.Summary, "instance VI_1 replaced (version 3→2): VIPs released until re-election") {
		t.Errorf("reload summary of a version change:\n%s", st.Summary)
	}
}

// TestUnknownUntilFirstResult: a checked real server is "unknown" until its
// first check result, and the status says why it has its weight meanwhile.
func TestUnknownUntilFirstResult(t *testing.T) {
	h := newHarness(t, webConfig(true, 0, 0))
	r := h.status().Services[0].Reals[0]
	if r.Health != "unknown" || r.Decision != "in service until its first check result (alpha off)" {
		t.Errorf("before any check: health %q, decision %q", r.Health, r.Decision)
	}
	if d, _ := h.ipvs.last(); weights(d)["192.168.0.101:80"] != 2 {
		t.Errorf("before any check the weight is %d, want 2 (alpha off)", weights(d)["192.168.0.101:80"])
	}
	h.healthCh <- HealthChange{ID: RealID(key80, lvs.DestKey{Addr: rs1, Port: 80}), Up: false, Reason: "refused"}
	h.eventually("rs1 down", func() bool { return h.status().Services[0].Reals[0].Health == "down" })
	if r := h.status().Services[0].Reals[0]; r.Decision != "" {
		t.Errorf("after a result the decision still says %q", r.Decision)
	}
}

// TestHandoverReportsSyncGroup: handing over one member of a sync group
// reports the members that moved with it.
func TestHandoverReportsSyncGroup(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Instances = []vrrp.Config{instanceCfg("VI_EXT", 51, 150), instanceCfg("VI_GW", 52, 150), instanceCfg("VI_OTHER", 53, 150)}
	cfg.SyncGroups = []vrrp.SyncGroup{{Name: "G", Instances: []string{"VI_EXT", "VI_GW"}}}
	h := newHarness(t, cfg)
	for _, n := range []string{"VI_EXT", "VI_GW", "VI_OTHER"} {
		h.vrrp(n).send(vrrp.StateInit, vrrp.StateMaster)
	}
	h.eventually("masters", func() bool {
		for _, in := range h.status().Instances {
			if in.State != "master" {
				return false
			}
		}
		return true
	})
	done, err := h.d.Handover(context.Background(), "VI_EXT")
	if err != nil || strings.Join(done, ", ") != "VI_EXT, VI_GW (sync group G)" {
		t.Errorf("Handover(VI_EXT) = %q, %v; want VI_EXT, VI_GW (sync group G)", done, err)
	}
}
