package director

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/track"
)

// Compute applies misc_dynamic weights and FILE_CHECKs: a weight set by
// the checks replaces the configured one, a file's value × weight is
// added (negated with reverse), a weight-0 file holds the server down
// while not 0 (with reverse, while 0), and nothing goes below 0.
func TestComputeDynamicWeights(t *testing.T) {
	maint := track.Key{Kind: track.KindFile, Name: "maint"}
	stop := track.Key{Kind: track.KindFile, Name: "stop"}
	k1, k2 := RealKey{key80, lvs.DestKey{Addr: rs1, Port: 80}}, RealKey{key80, lvs.DestKey{Addr: rs2, Port: 80}}
	tests := []struct {
		name     string
		refs1    []track.Ref
		weights  map[RealKey]checks.Weight
		files    map[track.Key]track.State
		rs1, rs2 int
	}{
		{"configured", nil, nil, nil, 2, 1},
		{"misc_dynamic sets", nil, map[RealKey]checks.Weight{k1: {Sets: 1, Sum: 20}, k2: {Sets: 1, Sum: 0}}, nil, 20, 0},
		{"file adds", []track.Ref{{Key: maint, Weight: 3}}, nil, map[track.Key]track.State{maint: {Value: 4}}, 14, 1},
		{"file reverse subtracts, floor 0", []track.Ref{{Key: maint, Weight: 3, Reverse: true}}, nil, map[track.Key]track.State{maint: {Value: 4}}, 0, 1},
		{"dynamic and file add up", []track.Ref{{Key: maint, Weight: -1}}, map[RealKey]checks.Weight{k1: {Sets: 1, Sum: 20}}, map[track.Key]track.State{maint: {Value: 5}}, 15, 1},
		{"weight 0 file non-zero holds down", []track.Ref{{Key: stop}}, nil, map[track.Key]track.State{stop: {Value: 1}}, 0, 1},
		{"weight 0 file zero lets up", []track.Ref{{Key: stop}}, nil, map[track.Key]track.State{stop: {Value: 0}}, 2, 1},
		{"weight 0 reverse file zero holds down", []track.Ref{{Key: stop, Reverse: true}}, nil, nil, 0, 1},
		{"file not read yet counts 0", []track.Ref{{Key: maint, Weight: 3}}, nil, nil, 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := webConfig(true, 0, 0)
			cfg.Services[0].Reals[0].TrackFiles = tc.refs1
			out := Compute(cfg, Inputs{Health: map[RealKey]bool{}, Weights: tc.weights, Files: tc.files})
			w := weights(out.Desired)
			if w["192.168.0.101:80"] != tc.rs1 || w["192.168.0.102:80"] != tc.rs2 {
				t.Errorf("weights %v, want rs1 %d rs2 %d", w, tc.rs1, tc.rs2)
			}
			if all := Configured(cfg); weights(all.Desired)["192.168.0.101:80"] != 2 {
				t.Errorf("Configured applies dynamic weights: %v", weights(all.Desired))
			}
		})
	}
}

// A FILE_CHECK follows its file: the table, the status, and
// notify_down/notify_up when the file holds the server down and lets it up.
func TestDirectorFileCheck(t *testing.T) {
	dir := t.TempDir()
	stop, maint := filepath.Join(dir, "stop"), filepath.Join(dir, "maint")
	write := func(path, v string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(stop, "0")
	write(maint, "0")
	touch := func(name string) []string { return []string{"/usr/bin/touch", filepath.Join(dir, name)} }
	cfg := webConfig(true, 0, 0)
	cfg.Trackers.Spec.Files = []track.File{{Name: "stop", Path: stop}, {Name: "maint", Path: maint}}
	rs := &cfg.Services[0].Reals[0]
	rs.TrackFiles = []track.Ref{{Key: track.Key{Kind: track.KindFile, Name: "stop"}}, {Key: track.Key{Kind: track.KindFile, Name: "maint"}, Weight: 10}}
	rs.NotifyUp, rs.NotifyDown = touch("up"), touch("down")
	h := newHarness(t, cfg)
	rs1w := func(want int) func() bool {
		return func() bool { d, _ := h.ipvs.last(); w, ok := weights(d)["192.168.0.101:80"]; return ok && w == want }
	}
	write(maint, "3")
	h.eventually("rs1 at 2 + 3 × 10", rs1w(32))
	write(stop, "1")
	h.eventually("rs1 held down by the weight-0 file", rs1w(0))
	h.eventually("notify_down ran", exists(dir, "down"))
	if st := h.status(); st.Services[0].Reals[0].Health != "down" {
		t.Errorf("status of rs1 held down by its file: %+v", st.Services[0].Reals[0])
	}
	if exists(dir, "up")() {
		t.Error("notify_up ran")
	}
	write(stop, "0")
	h.eventually("rs1 up again", rs1w(32))
	h.eventually("notify_up ran", exists(dir, "up"))
}
