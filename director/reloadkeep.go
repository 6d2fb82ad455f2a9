package director

import (
	"reflect"
	"strings"

	"github.com/havsd/havsd/conf"
)

// restartOnly puts back into cur the settings a running daemon cannot
// change, and says which of them the file changed, so that a reload
// neither pretends to apply them nor forgets them: the control socket,
// the metrics listener, the notify FIFO and the logger are set up at start, the IPVS
// reconciler's interval and prune_foreign and the kernel's connection
// timeouts too, and sync groups are bound once. The running value stays
// until a restart, and every later reload says so again.
func restartOnly(old, cur *conf.Config) []string {
	g, o := &cur.Global, old.Global
	var names []string
	keep := func(name string, differ bool, restore func()) {
		if differ {
			names = append(names, name)
			restore()
		}
	}
	keep("control_socket", g.ControlSocket != o.ControlSocket, func() { g.ControlSocket = o.ControlSocket })
	keep("metrics_listen", g.MetricsListen != o.MetricsListen, func() { g.MetricsListen = o.MetricsListen })
	keep("log_format", g.LogFormat != o.LogFormat, func() { g.LogFormat = o.LogFormat })
	keep("log_level", g.LogLevel != o.LogLevel, func() { g.LogLevel = o.LogLevel })
	keep("reconcile_interval", g.ReconcileInterval != o.ReconcileInterval, func() { g.ReconcileInterval = o.ReconcileInterval })
	keep("prune_foreign", g.PruneForeign != o.PruneForeign, func() { g.PruneForeign = o.PruneForeign })
	keep("notify_fifo", g.NotifyFIFO != o.NotifyFIFO, func() { g.NotifyFIFO = o.NotifyFIFO })
	keep("ipvs_timeouts", g.TimeoutTCP != o.TimeoutTCP || g.TimeoutTCPFin != o.TimeoutTCPFin || g.TimeoutUDP != o.TimeoutUDP, func() {
		g.TimeoutTCP, g.TimeoutTCPFin, g.TimeoutUDP = o.TimeoutTCP, o.TimeoutTCPFin, o.TimeoutUDP
	})
	var out []string
	if len(names) > 0 {
		out = append(out, "global "+strings.Join(names, ", ")+" changed in the file but need a restart (the running values are kept)")
	}
	if !reflect.DeepEqual(old.SyncGroups, cur.SyncGroups) {
		cur.SyncGroups = old.SyncGroups
		out = append(out, "sync groups changed in the file but need a restart (the running groups are kept)")
	}
	return out
}
