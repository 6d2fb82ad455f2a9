package director

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/track"
	"github.com/havsd/havsd/vrrp"
)

// TestTrackersSteerPriority: a track_file's value times its weight, a
// positive track_interface weight and a tracked service's delta add up in
// the one delta the instance gets; a weight-0 tracker failing faults it;
// status reports every tracker; a reload keeps an unchanged tracker.
func TestTrackersSteerPriority(t *testing.T) {
	dir := t.TempDir()
	maint, stop := filepath.Join(dir, "maint"), filepath.Join(dir, "stop")
	write := func(path, v string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(maint, "0")
	write(stop, "0")
	fileKey := track.Key{Kind: track.KindFile, Name: "maint"}
	stopKey := track.Key{Kind: track.KindFile, Name: "stop"}
	cfg := &conf.Config{
		Instances: []vrrp.Config{instanceCfg("VI_1", 51, 150)},
		Trackers: conf.Trackers{
			Spec:       track.Spec{Files: []track.File{{Name: "maint", Path: maint}, {Name: "stop", Path: stop}}},
			Refs:       map[string][]track.Ref{"VI_1": {{Key: fileKey, Weight: -10}, {Key: stopKey, Weight: 0}}},
			Interfaces: map[string][]conf.InterfaceWeight{"VI_1": {{Name: "eth1", Weight: 5}}},
		},
	}
	h := newHarness(t, cfg)
	v := h.vrrp("VI_1")
	lowered := func(n int32) func() bool { return func() bool { return v.delta.Load() == n } }
	h.eventually("interface bonus +5", lowered(-5))
	write(maint, "3") // 3 × -10
	h.eventually("file lowers by 30, bonus +5", lowered(25))
	st := h.status()
	if len(st.Trackers) != 2 || st.Trackers[0].Name != "maint" || st.Trackers[0].Value != 3 ||
		len(st.Trackers[0].UsedBy) != 1 || st.Trackers[0].UsedBy[0].Delta != -30 {
		t.Errorf("status trackers = %+v", st.Trackers)
	}
	faulted := func(want bool) func() bool {
		return func() bool { f := v.fault.Load(); return f != nil && (*f != "") == want }
	}
	write(stop, "1")
	h.eventually("weight-0 file faults", faulted(true))
	if f := *v.fault.Load(); f != `track_file "stop" failed (value 1)` {
		t.Errorf("fault reason %q", f)
	}
	write(stop, "0")
	h.eventually("fault cleared", faulted(false))

	// A reload that drops the file tracker: its effect goes.
	next := *cfg
	next.Trackers.Spec.Files = next.Trackers.Spec.Files[1:]
	next.Trackers.Refs = map[string][]track.Ref{"VI_1": {{Key: stopKey, Weight: 0}}}
	h.next.Store(&Loaded{Config: &next})
	if rs := h.reload(); !rs.OK {
		t.Fatalf("reload: %+v", rs)
	}
	h.eventually("only the bonus left", lowered(-5))
	if st := h.status(); len(st.Trackers) != 1 || st.Trackers[0].Name != "stop" || st.Trackers[0].State != "ok" {
		t.Errorf("after reload: %+v", st.Trackers)
	}
}
