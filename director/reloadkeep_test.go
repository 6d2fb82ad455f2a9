package director

import (
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/vrrp"
)

// TestReloadKeepsRestartOnlySettings: a reload that changes settings only a
// restart can apply says so, keeps the running values (a later reload says
// so again) and applies the rest.
func TestReloadKeepsRestartOnlySettings(t *testing.T) {
	global := conf.Global{ControlSocket: "/run/a.sock", MetricsListen: "127.0.0.1:1", LogFormat: "text", LogLevel: "info",
		IPVSMode: conf.IPVSAlways, ReconcileInterval: 10 * time.Second, RouterID: "lb1"}
	cfg := &conf.Config{Global: global, Instances: []vrrp.Config{instanceCfg("VI_1", 51, 100), instanceCfg("VI_2", 52, 100)},
		SyncGroups: []vrrp.SyncGroup{{Name: "g", Instances: []string{"VI_1", "VI_2"}}}}
	h := newHarness(t, cfg)
	next := *cfg
	next.Global.ControlSocket, next.Global.MetricsListen = "/run/b.sock", "127.0.0.1:2"
	next.Global.LogFormat, next.Global.LogLevel = "json", "debug"
	next.Global.ReconcileInterval, next.Global.PruneForeign, next.Global.TimeoutTCP = time.Second, true, time.Minute
	next.Global.RouterID = "lb2" // applies at once
	next.Global.NotifyFIFO = "/run/havsd/notify.fifo"
	next.SyncGroups = []vrrp.SyncGroup{{Name: "g", Instances: []string{"VI_1"}}}
	for i := range 2 {
		n := next
		h.next.Store(&Loaded{Config: &n})
		st := h.reload()
		want := "global control_socket, metrics_listen, log_format, log_level, reconcile_interval, prune_foreign, notify_fifo, ipvs_timeouts changed in the file but need a restart (the running values are kept); sync groups changed in the file but need a restart (the running groups are kept)"
		if !st.OK || !strings.Contains(st.Summary, want) {
			t.Errorf("reload %d summary %q, want it to contain %q", i+1, st.Summary, want)
		}
		if i == 0 && !strings.Contains(st.Summary, "global router_id changed") {
			t.Errorf("router_id change not reported: %q", st.Summary)
		}
		if strings.Contains(st.Summary, "global log_level changed;") || strings.Contains(st.Summary, "sync groups changed (") {
			t.Errorf("a change that did not happen is reported as made: %q", st.Summary)
		}
		if s := h.status(); s.RouterID != "lb2" {
			t.Errorf("router_id %q, want lb2", s.RouterID)
		}
	}
}
