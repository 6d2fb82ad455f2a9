package director

import (
	"context"
	"time"

	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/track"
)

// hookTimeout bounds a quorum_up/down or notify_up/down command; its
// process group is killed when it runs out.
const hookTimeout = 30 * time.Second

// runHook runs argv in the background as the configured script user; it
// never blocks the director.
func (d *Director) runHook(what string, argv []string, attrs ...any) {
	if len(argv) == 0 {
		return
	}
	user := d.cfg.Global.ScriptUser
	log := d.log.With(attrs...)
	go func() {
		var cred *track.Credential
		if user != "" {
			c, err := track.LookupUser(user)
			if err != nil {
				log.Error(what+" command not run", "argv", argv, "err", err)
				return
			}
			cred = &c
		}
		r := track.RunScript(context.Background(), argv, cred, hookTimeout)
		if !r.OK {
			log.Warn(what+" command failed", "argv", argv, "result", r.Detail)
			return
		}
		log.Info(what+" command ran", "argv", argv, "result", r.Detail)
	}()
}

// quorumHook runs the service's quorum_up or quorum_down for a change of
// its quorum that logQuorum reports.
func (d *Director) quorumHook(k lvs.ServiceKey, q lvs.QuorumState) {
	vs := findService(d.cfg, k)
	if vs == nil {
		return
	}
	switch q {
	case lvs.QuorumUp:
		d.runHook("quorum_up", vs.QuorumUp, "service", k.String())
	case lvs.QuorumLost:
		d.runHook("quorum_down", vs.QuorumDown, "service", k.String())
	}
}

// healthHook runs a real server's notify_up or notify_down when its health
// changes from what the director held (a server without a result counts
// as up unless its checks use alpha, so a first success runs nothing).
// Call it before recording up.
func (d *Director) healthHook(k RealKey, up bool) {
	vs := findService(d.cfg, k.Service)
	if vs == nil {
		return
	}
	for _, rs := range vs.Reals {
		if rs.Dest.Key() != k.Dest {
			continue
		}
		was, known := d.up[k]
		if !known {
			was = !alpha(rs.Checks)
		}
		switch {
		case was == up:
		case up:
			d.runHook("notify_up", rs.NotifyUp, "service", k.Service.String(), "backend", k.Dest.String())
		default:
			d.runHook("notify_down", rs.NotifyDown, "service", k.Service.String(), "backend", k.Dest.String())
		}
		return
	}
}
