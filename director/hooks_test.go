package director

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/havsd/havsd/lvs"
)

// TestNotifyAndQuorumHooks: notify_down and notify_up run when a real
// server's health changes, quorum_down and quorum_up when the service's
// quorum does; a first success (the server already counted as up) runs
// nothing.
func TestNotifyAndQuorumHooks(t *testing.T) {
	dir := t.TempDir()
	touch := func(name string) []string { return []string{"/usr/bin/touch", filepath.Join(dir, name)} }
	exists := func(name string) func() bool {
		return func() bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
	}
	cfg := webConfig(true, 3, 0) // quorum 3 = both servers (weights 2 + 1)
	vs := &cfg.Services[0]
	vs.QuorumUp, vs.QuorumDown = touch("quorum-up"), touch("quorum-down")
	vs.Reals[0].NotifyUp, vs.Reals[0].NotifyDown = touch("rs1-up"), touch("rs1-down")
	h := newHarness(t, cfg)
	id1 := RealID(key80, lvs.DestKey{Addr: rs1, Port: 80})
	h.healthCh <- HealthChange{ID: id1, Up: true}
	h.healthCh <- HealthChange{ID: id1, Up: false, Reason: "connection refused"}
	h.eventually("notify_down ran", exists("rs1-down"))
	h.eventually("quorum_down ran", exists("quorum-down"))
	if exists("rs1-up")() {
		t.Error("notify_up ran for the first success of a server already counted as up")
	}
	h.healthCh <- HealthChange{ID: id1, Up: true}
	h.eventually("notify_up ran", exists("rs1-up"))
	h.eventually("quorum_up ran", exists("quorum-up"))
}

// TestOmega: with omega, stopping the director runs quorum_down (the
// quorum holds) and notify_down of each server up, and waits for them.
func TestOmega(t *testing.T) {
	dir := t.TempDir()
	touch := func(name string) []string { return []string{"/usr/bin/touch", filepath.Join(dir, name)} }
	cfg := webConfig(true, 1, 0)
	vs := &cfg.Services[0]
	vs.Omega = true
	vs.QuorumDown = touch("quorum-down")
	vs.Reals[0].NotifyDown, vs.Reals[1].NotifyDown = touch("rs1-down"), touch("rs2-down")
	h := newHarness(t, cfg)
	id2 := RealID(key80, lvs.DestKey{Addr: rs2, Port: 80})
	h.healthCh <- HealthChange{ID: id2, Up: false}
	h.eventually("rs2 down", exists(dir, "rs2-down"))
	os.Remove(filepath.Join(dir, "rs2-down"))
	h.cancel()
	if err := <-h.done; err != nil {
		t.Fatal(err)
	}
	h.done <- nil // for the harness's clean-up
	if !exists(dir, "quorum-down")() || !exists(dir, "rs1-down")() {
		t.Error("omega: quorum_down or rs1's notify_down did not run before the director returned")
	}
	if exists(dir, "rs2-down")() {
		t.Error("omega ran notify_down for a server already down")
	}
}

func exists(dir, name string) func() bool {
	return func() bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
}
