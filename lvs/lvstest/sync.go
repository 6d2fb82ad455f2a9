package lvstest

import (
	"slices"
	"sync"
	"syscall"

	"github.com/havsd/havsd/lvs"
)

// SyncFake is an in-memory kernel side of the sync daemons: one daemon per
// role at most, defaults filled in as the kernel does, EEXIST for a second
// daemon of a role and ESRCH for stopping a missing one. It counts calls
// and is safe for concurrent use.
type SyncFake struct {
	mu      sync.Mutex
	running []lvs.SyncDaemon
	calls   SyncCalls
	fail    error
}

// SyncCalls counts the calls that reached a SyncFake.
type SyncCalls struct{ Lists, Starts, Stops int }

var _ lvs.SyncTable = (*SyncFake)(nil)

// SyncDaemons lists the running daemons, masters first.
func (f *SyncFake) SyncDaemons() ([]lvs.SyncDaemon, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls.Lists++
	if f.fail != nil {
		return nil, f.fail
	}
	out := slices.Clone(f.running)
	slices.SortFunc(out, func(a, b lvs.SyncDaemon) int { return int(a.Role) - int(b.Role) })
	return out, nil
}

// StartSyncDaemon starts d with the kernel's defaults for its zero fields
// (a maximum length of 1472, as for a 1500-byte MTU).
func (f *SyncFake) StartSyncDaemon(d lvs.SyncDaemon) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls.Starts++
	if f.fail != nil {
		return f.fail
	}
	if slices.ContainsFunc(f.running, func(r lvs.SyncDaemon) bool { return r.Role == d.Role }) {
		return syscall.EEXIST
	}
	if !d.Group.IsValid() {
		d.Group = lvs.DefaultSyncGroup
	}
	if d.Port == 0 {
		d.Port = lvs.DefaultSyncPort
	}
	if d.TTL == 0 {
		d.TTL = lvs.DefaultSyncTTL
	}
	if d.MaxLen == 0 {
		d.MaxLen = 1472
	}
	f.running = append(f.running, d)
	return nil
}

// StopSyncDaemon stops the daemon of role r.
func (f *SyncFake) StopSyncDaemon(r lvs.SyncRole) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls.Stops++
	if f.fail != nil {
		return f.fail
	}
	i := slices.IndexFunc(f.running, func(d lvs.SyncDaemon) bool { return d.Role == r })
	if i < 0 {
		return syscall.ESRCH
	}
	f.running = slices.Delete(f.running, i, i+1)
	return nil
}

// Calls returns the calls counted so far.
func (f *SyncFake) Calls() SyncCalls {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// FailWith makes every later call fail with err (nil: succeed again).
func (f *SyncFake) FailWith(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}
