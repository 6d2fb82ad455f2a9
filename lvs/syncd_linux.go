package lvs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

var _ SyncTable = (*IPVS)(nil)

// SyncDaemons lists the sync daemons running in the table's network
// namespace, as the kernel reports them (defaults filled in).
func (t *IPVS) SyncDaemons() ([]SyncDaemon, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []SyncDaemon
	err := t.g.request(ipvsCmdGetDaemon, unix.NLM_F_DUMP, nil, func(b []byte) error {
		d, err := parseDaemonMsg(b)
		out = append(out, d)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing IPVS sync daemons: %w", err)
	}
	return out, nil
}

// StartSyncDaemon starts a sync daemon (IPVS_CMD_NEW_DAEMON), as ipvsadm
// --start-daemon does.
func (t *IPVS) StartSyncDaemon(d SyncDaemon) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.g.request(ipvsCmdNewDaemon, unix.NLM_F_ACK, func(w *attrWriter) { appendDaemon(w, d, true) }, nil)
	if err != nil {
		return fmt.Errorf("starting the %s: %w", d, err)
	}
	return nil
}

// StopSyncDaemon stops the sync daemon of role r (IPVS_CMD_DEL_DAEMON).
func (t *IPVS) StopSyncDaemon(r SyncRole) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.g.request(ipvsCmdDelDaemon, unix.NLM_F_ACK, func(w *attrWriter) { appendDaemon(w, SyncDaemon{Role: r}, false) }, nil)
	if err != nil {
		return fmt.Errorf("stopping the %s sync daemon: %w", r, err)
	}
	return nil
}
