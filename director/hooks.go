package director

import (
	"context"
	"log/slog"
	"sync"
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
	user, log := d.cfg.Global.ScriptUser, d.log.With(attrs...) // read here: d.cfg is the director goroutine's
	go runHook(user, log, what, argv)
}

// runHook runs argv as user ("": the daemon's) and logs the outcome.
func runHook(user string, log *slog.Logger, what string, argv []string) {
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
		files := filesOK(rs, d.trk.states) // a FILE_CHECK holding it down (filecheck.go)
		was, up = was && files, up && files
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

// omega runs, for the services with omega set, quorum_down if their quorum
// holds and notify_down of each real server up, as the daemon stops; it
// waits for them (each bounded by hookTimeout), since the process is about
// to exit.
func (d *Director) omega() {
	var wg sync.WaitGroup
	user := d.cfg.Global.ScriptUser
	run := func(what string, argv []string, attrs ...any) {
		if len(argv) == 0 {
			return
		}
		wg.Add(1)
		log := d.log.With(attrs...)
		go func() {
			defer wg.Done()
			runHook(user, log, what, argv)
		}()
	}
	for i := range d.cfg.Services {
		vs := &d.cfg.Services[i]
		if !vs.Omega {
			continue
		}
		k := vs.Service.Key
		if d.last.Quorum[k] == lvs.QuorumUp {
			run("quorum_down", vs.QuorumDown, "service", k.String(), "reason", "omega")
		}
		for _, rs := range vs.Reals {
			if up(d.up, k, rs) && filesOK(rs, d.trk.states) {
				run("notify_down", rs.NotifyDown, "service", k.String(), "backend", rs.Dest.Key().String(), "reason", "omega")
			}
		}
	}
	wg.Wait()
}
