package conf

import (
	"reflect"
	"slices"

	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

// InstanceKey identifies a VRRP instance across reloads: the same VRID on
// the same interface and family is the same virtual router, whatever its
// name.
type InstanceKey struct {
	Interface string
	VRID      uint8
	IPv6      bool
}

// KeyOf returns the key of a VRRP instance.
func KeyOf(c vrrp.Config) InstanceKey {
	return InstanceKey{Interface: c.Interface, VRID: c.VRID, IPv6: c.IPv6}
}

// Changes says what differs between two configurations. The zero value
// means nothing changed.
type Changes struct {
	// Global lists the changed global settings by their config names
	// ("log_level", "ipvs_timeouts", ...).
	Global []string
	// SyncGroups is true when the sync groups differ in any way.
	SyncGroups bool
	// Marks is true when the firewall-mark classification rules differ.
	Marks bool
	// TrackServices is true when the track_service entries differ.
	TrackServices bool
	// Trackers is true when the vrrp_script, track_file or track_process
	// trackers, their uses or the track_interface weights differ.
	Trackers bool
	// BGP names what changed in the bgp block ("bgp" when it was added or
	// removed, else "asn", "communities", "neighbor ADDR", ...).
	BGP []string
	// Services added and removed, by key, and the changes of services
	// present in both.
	AddedServices, RemovedServices []lvs.ServiceKey
	ChangedServices                []ServiceChange
}

// ServiceChange says what changed in one virtual service present in both
// configurations.
type ServiceChange struct {
	Key lvs.ServiceKey
	// Attrs lists every changed service-level setting by config name
	// ("scheduler", "persistence", "quorum", "sorry_server", "name", ...).
	Attrs []string
	// Real servers added, removed and changed (weight, forwarding,
	// thresholds, full-NAT, inhibit, checks).
	AddedReals, RemovedReals, ChangedReals []lvs.DestKey
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool { return reflect.DeepEqual(c, Changes{}) }

// Diff compares two configurations. Either may be nil (an empty config).
// VRRP instances are not compared: the director matches them by KeyOf
// against the running ones. Lists are sorted by their keys' Compare.
func Diff(old, new *Config) Changes {
	if old == nil {
		old = &Config{}
	}
	if new == nil {
		new = &Config{}
	}
	var c Changes
	c.Global = diffGlobal(old.Global, new.Global)
	c.SyncGroups = !equalSlices(old.SyncGroups, new.SyncGroups)
	c.Marks = !equalSlices(old.Marks, new.Marks)
	c.TrackServices = !equalSlices(old.TrackServices, new.TrackServices)
	c.Trackers = !reflect.DeepEqual(old.Trackers, new.Trackers)
	c.BGP = diffBGP(old.BGP, new.BGP)
	svcKey := func(s VirtualService) lvs.ServiceKey { return s.Service.Key }
	var changed []lvs.ServiceKey
	c.AddedServices, c.RemovedServices, changed = diffKeyed(old.Services, new.Services, svcKey,
		func(a, b VirtualService) bool { return reflect.DeepEqual(a, b) }, lvs.ServiceKey.Compare)
	oldByKey := index(old.Services, svcKey)
	newByKey := index(new.Services, svcKey)
	for _, k := range changed {
		c.ChangedServices = append(c.ChangedServices, diffService(oldByKey[k], newByKey[k]))
	}
	return c
}

func diffGlobal(a, b Global) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("router_id", a.RouterID != b.RouterID)
	add("control_socket", a.ControlSocket != b.ControlSocket)
	add("metrics_listen", a.MetricsListen != b.MetricsListen)
	add("log_format", a.LogFormat != b.LogFormat)
	add("log_level", a.LogLevel != b.LogLevel)
	add("ipvs_mode", a.IPVSMode != b.IPVSMode)
	add("reconcile_interval", a.ReconcileInterval != b.ReconcileInterval)
	add("prune_foreign", a.PruneForeign != b.PruneForeign)
	add("set_sysctls", a.SetSysctls != b.SetSysctls)
	add("notify_fifo", a.NotifyFIFO != b.NotifyFIFO)
	add("script_user", a.ScriptUser != b.ScriptUser)
	add("ipvs_timeouts", a.TimeoutTCP != b.TimeoutTCP || a.TimeoutTCPFin != b.TimeoutTCPFin || a.TimeoutUDP != b.TimeoutUDP)
	add("ipvs_sync", !reflect.DeepEqual(a.Sync, b.Sync))
	return out
}

func diffService(a, b VirtualService) ServiceChange {
	sc := ServiceChange{Key: b.Service.Key}
	add := func(name string, differ bool) {
		if differ {
			sc.Attrs = append(sc.Attrs, name)
		}
	}
	as, bs := a.Service, b.Service
	add("name", a.Name != b.Name)
	add("scheduler", as.Scheduler != bs.Scheduler)
	add("sched_flags", as.Flags != bs.Flags)
	add("persistence", as.Timeout != bs.Timeout)
	add("persistence_netmask", as.NetmaskBits != bs.NetmaskBits)
	add("persistence_engine", as.PE != bs.PE)
	add("ops", as.OnePacket != bs.OnePacket)
	add("quorum", a.Quorum != b.Quorum)
	add("hysteresis", a.Hysteresis != b.Hysteresis)
	add("instance", a.Instance != b.Instance)
	add("drain_for", a.DrainFor != b.DrainFor)
	add("announce", a.Announce != b.Announce)
	add("sorry_server", !reflect.DeepEqual(a.Sorry, b.Sorry))
	realKey := func(r RealServer) lvs.DestKey { return r.Dest.Key() }
	sc.AddedReals, sc.RemovedReals, sc.ChangedReals = diffKeyed(a.Reals, b.Reals, realKey,
		func(x, y RealServer) bool { return reflect.DeepEqual(x, y) }, lvs.DestKey.Compare)
	return sc
}

// diffKeyed matches two lists by key and returns the keys only in new, only
// in old, and in both but not equal, each sorted by cmpKey. A key repeated
// in one list (impossible in a validated config) counts once, last wins.
func diffKeyed[T any, K comparable](old, new []T, key func(T) K, equal func(a, b T) bool, cmpKey func(a, b K) int) (added, removed, changed []K) {
	o, n := index(old, key), index(new, key)
	for k, nv := range n {
		if ov, ok := o[k]; !ok {
			added = append(added, k)
		} else if !equal(ov, nv) {
			changed = append(changed, k)
		}
	}
	for k := range o {
		if _, ok := n[k]; !ok {
			removed = append(removed, k)
		}
	}
	slices.SortFunc(added, cmpKey)
	slices.SortFunc(removed, cmpKey)
	slices.SortFunc(changed, cmpKey)
	return added, removed, changed
}

func index[T any, K comparable](xs []T, key func(T) K) map[K]T {
	m := make(map[K]T, len(xs))
	for _, x := range xs {
		m[key(x)] = x
	}
	return m
}

func equalSlices[T any](a, b []T) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}
