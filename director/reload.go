package director

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

// doReload applies a new load of the file, only the difference. An invalid
// file changes nothing.
func (d *Director) doReload(l Loaded) ReloadStatus {
	d.reload.Count++
	d.reload.At = d.deps.Clock.Now()
	d.reload.Diagnostics = l.Diagnostics
	if l.Err != nil {
		d.reload.OK = false
		d.reload.Summary = "rejected: the running configuration is unchanged"
		d.log.Error("reload rejected; keeping the running configuration", "err", l.Err)
		LogDiagnostics(d.log, "reload rejected", l.Diagnostics)
		return d.reload
	}
	if empty(l.Config) && !empty(d.cfg) {
		// A truncated file (an interrupted write by config management)
		// would otherwise remove every instance and service at once.
		msg := d.configFile + ": the new configuration is empty (no vrrp_instance, no virtual_service): reload refused; stop havsd to remove everything"
		d.reload.OK = false
		d.reload.Diagnostics = msg + "\n" + l.Diagnostics
		d.reload.Summary = "refused: the new configuration is empty; the running configuration is unchanged"
		d.log.Error("reload refused; keeping the running configuration", "err", msg)
		return d.reload
	}
	old := d.cfg
	kept := restartOnly(old, l.Config) // reloadkeep.go
	d.cfg = l.Config
	var summary []string
	summary = append(summary, d.reconfigureInstances(d.cfg)...)
	summary = append(summary, d.reloadTrackers(old, d.cfg)...)
	summary = append(summary, d.startDrains(old, d.cfg)...)
	summary = append(summary, d.reloadBGP(old, d.cfg)...)
	d.ids = newRealIDs(d.cfg)
	for k := range d.up {
		if !d.ids.checked(k) {
			delete(d.up, k)
			delete(d.weights, k)
		}
	}
	d.health.Set(checkTargets(d.cfg))
	summary = append(summary, describe(old, d.cfg, conf.Diff(old, d.cfg))...)
	summary = append(summary, kept...)
	d.apply()
	d.deps.IPVS.Trigger()
	d.setSync() // restarts only the daemons, and only when ipvs_sync changed
	d.reload.OK = true
	if len(summary) == 0 {
		summary = []string{"no change"}
	}
	d.reload.Summary = strings.Join(summary, "; ")
	d.log.Info("reloaded configuration", "changes", d.reload.Summary)
	return d.reload
}

// empty reports whether c has neither a VRRP instance nor a virtual
// service: loading it would leave the director doing nothing.
func empty(c *conf.Config) bool {
	return c == nil || len(c.Instances) == 0 && len(c.Services) == 0
}

// reconfigureInstances updates kept instances in place, stops removed ones
// and starts new ones, waiting for nothing: a new instance whose VRID is
// still held by a stopping one starts when that one has stopped.
func (d *Director) reconfigureInstances(cur *conf.Config) []string {
	var summary []string
	byKey := make(map[conf.InstanceKey]*instance, len(d.instances))
	for _, in := range d.instances {
		byKey[conf.KeyOf(in.cfg)] = in
	}
	next := make(map[string]*instance, len(cur.Instances))
	byName := make(map[string]*instance, len(d.instances))
	for _, in := range d.instances {
		byName[in.cfg.Name] = in
	}
	replaced := make(map[string]bool)
	var added []vrrp.Config
	for _, nc := range cur.Instances {
		in, ok := byKey[conf.KeyOf(nc)]
		switch {
		case !ok && byName[nc.Name] != nil:
			// The same name on another virtual router (VRID, interface or
			// family changed): a new instance that must be elected.
			added = append(added, nc)
			replaced[nc.Name] = true
			summary = append(summary, d.replacing(byName[nc.Name].cfg, nc))
		case !ok:
			added = append(added, nc)
			summary = append(summary, "instance "+nc.Name+" added")
		case in.cfg.Version != nc.Version:
			// An instance cannot change its VRRP version: replace it.
			added = append(added, nc)
			replaced[nc.Name] = true
			summary = append(summary, d.replacing(in.cfg, nc))
		default:
			delete(byKey, conf.KeyOf(nc))
			next[nc.Name] = in
			if !reflect.DeepEqual(in.cfg, nc) {
				fields := conf.InstanceFields(in.cfg, nc)
				in.vrrp.Update(nc)
				in.cfg = nc
				summary = append(summary, "instance "+nc.Name+" updated"+inParens(fields))
			}
			// An instance added, removed or renumbered beside it: its
			// adverts are ignored, not counted as an unknown VRID.
			if sib := siblings(cur, nc); !slices.Equal(sib, in.siblings) {
				in.vrrp.SetSiblings(sib)
				in.siblings = sib
			}
		}
	}
	d.instances = next
	for _, in := range byKey {
		d.stopInstance(in)
		if slices.IndexFunc(added, func(c vrrp.Config) bool { return conf.KeyOf(c) == conf.KeyOf(in.cfg) }) < 0 && !replaced[in.cfg.Name] {
			summary = append(summary, "instance "+in.cfg.Name+" removed")
		}
	}
	d.deferred = make(map[conf.InstanceKey]vrrp.Config)
	for _, nc := range added {
		if _, busy := d.stopping[conf.KeyOf(nc)]; busy {
			d.deferred[conf.KeyOf(nc)] = nc // onExit starts it
			continue
		}
		if err := d.startInstance(nc); err != nil {
			d.log.Error("reload: starting instance", "instance", nc.Name, "err", err)
		}
	}
	return summary
}

// replacing says, before it happens, that an instance is replaced by one
// that must be elected, and remembers it so that the election is reported
// too (onInstanceEvent).
func (d *Director) replacing(was, now vrrp.Config) string {
	var what []string
	add := func(name string, a, b any) {
		if a != b {
			what = append(what, fmt.Sprintf("%s %v→%v", name, a, b))
		}
	}
	add("vrid", was.VRID, now.VRID)
	add("interface", was.Interface, now.Interface)
	add("family", map[bool]string{false: "ipv4", true: "ipv6"}[was.IPv6], map[bool]string{false: "ipv4", true: "ipv6"}[now.IPv6])
	add("version", was.Version, now.Version)
	change := strings.Join(what, ", ")
	if d.replaced == nil {
		d.replaced = make(map[string]replacement)
	}
	d.replaced[now.Name] = replacement{change: change, at: d.deps.Clock.Now()}
	d.log.Warn("instance replaced: VIPs released until re-election", "instance", now.Name, "change", change)
	return fmt.Sprintf("instance %s replaced (%s): VIPs released until re-election", now.Name, change)
}

// replacement is an instance replaced by a reload, until it is elected.
type replacement struct {
	change string
	at     time.Time
}

// startDrains keeps real servers dropped from a service at weight 0 for the
// service's DrainFor before they are deleted.
func (d *Director) startDrains(old, cur *conf.Config) []string {
	var summary []string
	now := d.deps.Clock.Now()
	next := make(map[lvs.ServiceKey][]Drain)
	for _, ns := range cur.Services {
		key := ns.Service.Key
		present := make(map[lvs.DestKey]bool)
		for _, rs := range ns.Reals {
			present[rs.Dest.Key()] = true
		}
		for _, dr := range d.draining[key] {
			if !present[dr.Dest.Key()] && now.Before(dr.Until) {
				next[key] = append(next[key], dr)
			}
		}
		if ns.DrainFor <= 0 {
			continue
		}
		os := findService(old, key)
		if os == nil {
			continue
		}
		for _, rs := range os.Reals {
			if !present[rs.Dest.Key()] {
				next[key] = append(next[key], Drain{Dest: rs.Dest, Until: now.Add(ns.DrainFor)})
				summary = append(summary, fmt.Sprintf("draining %s for %s", RealID(key, rs.Dest.Key()), ns.DrainFor))
			}
		}
	}
	d.draining = next
	return summary
}

// expireDrains forgets drains whose time is up and reports whether any did.
func (d *Director) expireDrains() bool {
	now := d.deps.Clock.Now()
	changed := false
	for key, list := range d.draining {
		kept := slices.DeleteFunc(list, func(dr Drain) bool { return !now.Before(dr.Until) })
		if len(kept) != len(list) {
			changed = true
		}
		if len(kept) == 0 {
			delete(d.draining, key)
		} else {
			d.draining[key] = kept
		}
	}
	return changed
}

func findService(cfg *conf.Config, key lvs.ServiceKey) *conf.VirtualService {
	for i := range cfg.Services {
		if cfg.Services[i].Service.Key == key {
			return &cfg.Services[i]
		}
	}
	return nil
}

// describe turns a configuration diff into the reload summary, naming the
// settings of each changed real server; instance changes are reported by
// reconfigureInstances.
func describe(old, cur *conf.Config, ch conf.Changes) []string {
	var out []string
	if len(ch.Global) > 0 {
		out = append(out, "global "+strings.Join(ch.Global, ", ")+" changed")
	}
	if ch.SyncGroups {
		out = append(out, "sync groups changed (they take effect at the next restart)")
	}
	if ch.Marks {
		out = append(out, "firewall-mark rules changed")
	}
	if ch.TrackServices {
		out = append(out, "track_service changed")
	}
	for _, k := range ch.AddedServices {
		out = append(out, "service "+k.String()+" added")
	}
	for _, k := range ch.RemovedServices {
		out = append(out, "service "+k.String()+" removed")
	}
	for _, sc := range ch.ChangedServices {
		var parts []string
		if len(sc.Attrs) > 0 {
			parts = append(parts, strings.Join(sc.Attrs, ", "))
		}
		for _, r := range sc.AddedReals {
			parts = append(parts, "+"+r.String())
		}
		for _, r := range sc.RemovedReals {
			parts = append(parts, "-"+r.String())
		}
		for _, r := range sc.ChangedReals {
			parts = append(parts, "~"+r.String()+realFields(findService(old, sc.Key), findService(cur, sc.Key), r))
		}
		out = append(out, "service "+sc.Key.String()+" changed ("+strings.Join(parts, " ")+")")
	}
	return out
}

// realFields names the settings of real server r that differ between two
// versions of a service, as " (weight, check)".
func realFields(a, b *conf.VirtualService, r lvs.DestKey) string {
	find := func(s *conf.VirtualService) (conf.RealServer, bool) {
		if s != nil {
			for _, rs := range s.Reals {
				if rs.Dest.Key() == r {
					return rs, true
				}
			}
		}
		return conf.RealServer{}, false
	}
	x, ok1 := find(a)
	y, ok2 := find(b)
	if !ok1 || !ok2 {
		return ""
	}
	return inParens(conf.RealFields(x, y))
}

// inParens returns " (a, b)", or "" for no names.
func inParens(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// settleReplaced reports each replaced instance once it is elected: master,
// or backup for longer than Master_Down_Interval (another router is
// master). It runs on each state change and each watchdog tick.
func (d *Director) settleReplaced() {
	now := d.deps.Clock.Now()
	for name, r := range d.replaced {
		in, ok := d.instances[name]
		gone := !slices.ContainsFunc(d.cfg.Instances, func(c vrrp.Config) bool { return c.Name == name })
		if gone || ok && in.died {
			delete(d.replaced, name)
			continue
		}
		if !ok {
			continue // waiting for the instance it replaces to stop
		}
		settled := in.state == vrrp.StateMaster || in.state == vrrp.StateBackup &&
			now.Sub(r.at) > vrrp.MasterDownInterval(in.cfg.Version, in.cfg.Priority, in.cfg.AdvertInterval)
		if !settled {
			continue
		}
		delete(d.replaced, name)
		d.log.Info("replaced instance elected", "instance", name, "change", r.change, "state", stateName(in.state, false),
			"after", now.Sub(r.at).Round(time.Millisecond))
	}
}
