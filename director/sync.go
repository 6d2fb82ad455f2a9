package director

import (
	"context"
	"log/slog"
	"slices"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/sysctl"
)

// IPVS connection synchronisation (global ipvs_sync). The director hands
// the configured daemons to a SyncDaemons when it starts and after every
// reload; an unchanged ipvs_sync changes nothing, a changed one restarts
// only the daemons. Every director runs both daemons whatever its VRRP
// state (lvs/doc.go says why), so a VRRP transition does not touch them;
// the instance's state is shown beside them in status.

// SyncDaemons keeps the kernel's sync daemons as configured: an
// lvs.SyncReconciler with the sync sysctls in front (NewSyncDaemons).
type SyncDaemons interface {
	Run(ctx context.Context) error
	// Set replaces the desired daemons and sysctls; it does not block on
	// the kernel beyond writing the sysctls.
	Set(daemons []lvs.SyncDaemon, sysctls []conf.Sysctl)
	Status() lvs.SyncStatus
}

// NewSyncDaemons returns the production SyncDaemons: sysctls are written
// under /proc/sys (the network namespace's own) before the daemons are
// asked for, so that sync_ports or sync_sock_size hold when they start.
func NewSyncDaemons(r *lvs.SyncReconciler, log *slog.Logger) SyncDaemons {
	return &syncDaemons{r: r, log: log.With("component", "ipvs-sync")}
}

type syncDaemons struct {
	r       *lvs.SyncReconciler
	log     *slog.Logger
	sysctls []conf.Sysctl
}

func (s *syncDaemons) Run(ctx context.Context) error { return s.r.Run(ctx) }
func (s *syncDaemons) Status() lvs.SyncStatus        { return s.r.Status() }

func (s *syncDaemons) Set(daemons []lvs.SyncDaemon, sysctls []conf.Sysctl) {
	if !slices.Equal(s.sysctls, sysctls) {
		s.sysctls = slices.Clone(sysctls)
		needs := make([]sysctl.Need, len(sysctls))
		for i, kv := range sysctls {
			needs[i] = sysctl.Need{Key: kv.Key, Want: kv.Value, Why: "ipvs_sync"}
		}
		for _, f := range sysctl.Check("", needs, true) {
			if f.OK() {
				s.log.Info(f.String())
			} else {
				s.log.Warn(f.String())
			}
		}
	}
	s.r.SetDesired(daemons)
}

// SyncStatus is the sync daemons in status --json (ipvs_sync).
type SyncStatus struct {
	Instance string `json:"instance"`
	// State is the instance's VRRP state; the daemons run in any state.
	State     string             `json:"state"`
	Daemons   []SyncDaemonStatus `json:"daemons"`
	Restarts  uint64             `json:"restarts"` // daemons stopped behind our back and started again
	Errors    uint64             `json:"errors"`
	LastError string             `json:"last_error,omitempty"`
}

// SyncDaemonStatus is one daemon, wanted or found running.
type SyncDaemonStatus struct {
	Role      string `json:"role"` // "master" or "backup"
	Interface string `json:"interface"`
	SyncID    int    `json:"sync_id"`
	Group     string `json:"group,omitempty"`
	Port      int    `json:"port,omitempty"`
	TTL       int    `json:"ttl,omitempty"`
	MaxLen    int    `json:"max_len,omitempty"`
	Wanted    bool   `json:"wanted"`
	Running   bool   `json:"running"`
}

// startSync sets the configured daemons and runs the sync reconciler.
func (d *Director) startSync(ctx context.Context) {
	if d.deps.Sync == nil {
		return
	}
	d.setSync()
	d.goRun(ctx, "ipvs-sync", d.deps.Sync.Run)
}

// setSync hands the configured daemons and sysctls to the reconciler.
func (d *Director) setSync() {
	if d.deps.Sync == nil {
		return
	}
	var sysctls []conf.Sysctl
	if s := d.cfg.Global.Sync; s != nil {
		sysctls = s.Sysctls
	}
	d.deps.Sync.Set(d.cfg.Global.Sync.Daemons(), sysctls)
}

// syncStatus reports the daemons for status; nil without ipvs_sync and
// without daemons running.
func (d *Director) syncStatus() *SyncStatus {
	if d.deps.Sync == nil {
		return nil
	}
	ks := d.deps.Sync.Status()
	cfg := d.cfg.Global.Sync
	if cfg == nil && len(ks.Running) == 0 {
		return nil
	}
	st := &SyncStatus{Restarts: ks.Restarts, Errors: ks.Errors, LastError: ks.LastError}
	if cfg != nil {
		st.Instance = cfg.Instance
		if in, ok := d.instances[cfg.Instance]; ok {
			st.State = stateName(in.state, in.died)
		}
	}
	for _, w := range ks.Desired {
		ds := daemonStatus(w)
		ds.Wanted = true
		if i := slices.IndexFunc(ks.Running, w.Satisfies); i >= 0 {
			ds = daemonStatus(ks.Running[i])
			ds.Wanted, ds.Running = true, true
		}
		st.Daemons = append(st.Daemons, ds)
	}
	for _, r := range ks.Running {
		if !slices.ContainsFunc(ks.Desired, func(w lvs.SyncDaemon) bool { return w.Satisfies(r) }) {
			ds := daemonStatus(r)
			ds.Running = true
			st.Daemons = append(st.Daemons, ds)
		}
	}
	return st
}

func daemonStatus(d lvs.SyncDaemon) SyncDaemonStatus {
	ds := SyncDaemonStatus{Role: d.Role.String(), Interface: d.Interface, SyncID: int(d.SyncID),
		Port: int(d.Port), TTL: int(d.TTL), MaxLen: int(d.MaxLen)}
	if d.Group.IsValid() {
		ds.Group = d.Group.String()
	}
	return ds
}
