package lvs

import (
	"fmt"
	"net/netip"
	"slices"
)

// SyncRole is the role of a kernel connection-sync daemon. Its zero value
// is invalid.
type SyncRole uint8

// Sync daemon roles: a master sends the connections this director handles,
// a backup receives the connections another director sends.
const (
	SyncRoleInvalid SyncRole = iota
	SyncMaster
	SyncBackup
)

// String returns "master" or "backup", as ipvsadm names them.
func (r SyncRole) String() string { return enumString(r, syncRoleNames, "SyncRole") }

var syncRoleNames = map[SyncRole]string{SyncMaster: "master", SyncBackup: "backup"}

// Defaults of the kernel's sync daemons (net/netfilter/ipvs/ip_vs_sync.c),
// which keepalived's lvs_sync_daemon and ipvsadm --start-daemon also use
// when not told otherwise.
var (
	DefaultSyncGroup = netip.MustParseAddr("224.0.0.81")
)

// Default sync port and TTL.
const (
	DefaultSyncPort = 8848
	DefaultSyncTTL  = 1
)

// SyncDaemon is one kernel connection-sync daemon. Zero Port, TTL, MaxLen
// and an invalid Group mean the kernel's defaults (DefaultSyncPort,
// DefaultSyncTTL, a length from the interface's MTU, DefaultSyncGroup).
type SyncDaemon struct {
	Role      SyncRole
	Interface string // the link sync messages use
	SyncID    uint8  // messages of other ids are ignored (0 accepts all on a backup)
	Port      uint16
	TTL       uint8
	MaxLen    uint16 // largest UDP payload
	Group     netip.Addr
}

// String describes the daemon as one line of ipvsadm -L --daemon does.
func (d SyncDaemon) String() string {
	return fmt.Sprintf("%s sync daemon (mcast=%s, syncid=%d, group=%s, port=%d, ttl=%d, maxlen=%d)",
		d.Role, d.Interface, d.SyncID, d.Group, d.Port, d.TTL, d.MaxLen)
}

// Satisfies reports whether a running daemon (as the kernel reports it,
// defaults filled in) is the daemon d asks for: the fields d leaves at
// zero match any value.
func (d SyncDaemon) Satisfies(running SyncDaemon) bool {
	if d.Role != running.Role || d.Interface != running.Interface || d.SyncID != running.SyncID {
		return false
	}
	group := d.Group
	if !group.IsValid() {
		group = DefaultSyncGroup
	}
	port, ttl := d.Port, d.TTL
	if port == 0 {
		port = DefaultSyncPort
	}
	if ttl == 0 {
		ttl = DefaultSyncTTL
	}
	return group == running.Group && port == running.Port && ttl == running.TTL &&
		(d.MaxLen == 0 || d.MaxLen == running.MaxLen)
}

// SyncStep is one action of a sync plan.
type SyncStep struct {
	Start  bool // start Daemon; false: stop the daemon of Daemon.Role
	Daemon SyncDaemon
}

// String describes the step: "start master sync daemon (...)".
func (s SyncStep) String() string {
	if s.Start {
		return "start " + s.Daemon.String()
	}
	return "stop " + s.Daemon.String()
}

// PlanSync returns the steps that turn the running daemons into the desired
// ones: a daemon that runs with other settings is stopped and started
// again, one that is not wanted is stopped, one that is missing is started.
// A daemon that already runs as desired is not touched. At most one daemon
// per role is considered on each side (the kernel runs at most one).
func PlanSync(desired, running []SyncDaemon) []SyncStep {
	var out []SyncStep
	for _, role := range []SyncRole{SyncMaster, SyncBackup} {
		want, wok := byRole(desired, role)
		have, hok := byRole(running, role)
		switch {
		case wok && hok && want.Satisfies(have):
		case wok && hok:
			out = append(out, SyncStep{Daemon: have}, SyncStep{Start: true, Daemon: want})
		case wok:
			out = append(out, SyncStep{Start: true, Daemon: want})
		case hok:
			out = append(out, SyncStep{Daemon: have})
		}
	}
	return out
}

func byRole(ds []SyncDaemon, r SyncRole) (SyncDaemon, bool) {
	i := slices.IndexFunc(ds, func(d SyncDaemon) bool { return d.Role == r })
	if i < 0 {
		return SyncDaemon{}, false
	}
	return ds[i], true
}

// Daemon attributes (IPVS_DAEMON_ATTR_*) and states (IP_VS_STATE_*).
const (
	daemonAttrState      = 1
	daemonAttrMcastIfn   = 2
	daemonAttrSyncID     = 3
	daemonAttrMaxLen     = 4
	daemonAttrMcastGroup = 5
	daemonAttrGroup6     = 6
	daemonAttrPort       = 7
	daemonAttrTTL        = 8

	stateMaster = 1
	stateBackup = 2
)

func roleState(r SyncRole) uint32 {
	if r == SyncBackup {
		return stateBackup
	}
	return stateMaster
}

// appendDaemon writes the daemon attribute of a start (full) or stop
// request.
func appendDaemon(w *attrWriter, d SyncDaemon, full bool) {
	off := w.begin(ipvsCmdAttrDaemon)
	defer w.end(off)
	w.u32(daemonAttrState, roleState(d.Role))
	if !full {
		return
	}
	w.str(daemonAttrMcastIfn, d.Interface)
	w.u32(daemonAttrSyncID, uint32(d.SyncID))
	if d.MaxLen != 0 {
		w.u16(daemonAttrMaxLen, d.MaxLen)
	}
	switch {
	case d.Group.Is4():
		w.put(daemonAttrMcastGroup, d.Group.AsSlice())
	case d.Group.Is6():
		w.put(daemonAttrGroup6, d.Group.AsSlice())
	}
	if d.Port != 0 {
		w.u16(daemonAttrPort, d.Port) // host order, unlike the addresses' ports
	}
	if d.TTL != 0 {
		w.u8(daemonAttrTTL, d.TTL)
	}
}

// parseDaemonMsg decodes one answer of a daemon dump.
func parseDaemonMsg(b []byte) (SyncDaemon, error) {
	if len(b) < 4 {
		return SyncDaemon{}, fmt.Errorf("short IPVS daemon message")
	}
	var nested []byte
	if err := forAttrs(b[4:], func(typ uint16, v []byte) {
		if typ == ipvsCmdAttrDaemon {
			nested = v
		}
	}); err != nil {
		return SyncDaemon{}, err
	}
	if nested == nil {
		return SyncDaemon{}, fmt.Errorf("IPVS daemon message without a daemon")
	}
	var d SyncDaemon
	err := forAttrs(nested, func(typ uint16, v []byte) {
		switch typ {
		case daemonAttrState:
			switch getU32(v) {
			case stateMaster:
				d.Role = SyncMaster
			case stateBackup:
				d.Role = SyncBackup
			}
		case daemonAttrMcastIfn:
			d.Interface = getStr(v)
		case daemonAttrSyncID:
			d.SyncID = uint8(getU32(v))
		case daemonAttrMaxLen:
			d.MaxLen = getU16(v)
		case daemonAttrMcastGroup:
			if len(v) >= 4 {
				d.Group = netip.AddrFrom4([4]byte(v[:4]))
			}
		case daemonAttrGroup6:
			if len(v) >= 16 {
				d.Group = netip.AddrFrom16([16]byte(v[:16]))
			}
		case daemonAttrPort:
			d.Port = getU16(v)
		case daemonAttrTTL:
			if len(v) >= 1 {
				d.TTL = v[0]
			}
		}
	})
	if err == nil && d.Role == SyncRoleInvalid {
		err = fmt.Errorf("IPVS daemon message without a known state")
	}
	return d, err
}
