package director

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

// doReload loads the file again and applies only the difference. An invalid
// file changes nothing.
func (d *Director) doReload() ReloadStatus {
	l := d.deps.Load()
	d.reload.Count++
	d.reload.At = d.deps.Clock.Now()
	d.reload.Diagnostics = l.Diagnostics
	if l.Err != nil {
		d.reload.OK = false
		d.reload.Summary = "rejected: the running configuration is unchanged"
		d.log.Error("reload rejected; keeping the running configuration", "err", l.Err, "diagnostics", l.Diagnostics)
		return d.reload
	}
	old := d.cfg
	kept := restartOnly(old, l.Config) // reloadkeep.go
	d.cfg = l.Config
	var summary []string
	summary = append(summary, d.reconfigureInstances(d.cfg)...)
	summary = append(summary, d.reloadTrackers(old, d.cfg)...)
	summary = append(summary, d.startDrains(old, d.cfg)...)
	targets, ids := Targets(d.cfg)
	d.ids = ids
	for k := range d.up {
		if _, ok := targets[k.String()]; !ok {
			delete(d.up, k)
		}
	}
	d.health.Set(targets)
	summary = append(summary, describe(conf.Diff(old, d.cfg))...)
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
	var added []vrrp.Config
	for _, nc := range cur.Instances {
		in, ok := byKey[conf.KeyOf(nc)]
		switch {
		case !ok:
			added = append(added, nc)
			summary = append(summary, "instance "+nc.Name+" added")
		case in.cfg.Version != nc.Version:
			// An instance cannot change its VRRP version: replace it.
			added = append(added, nc)
			summary = append(summary, "instance "+nc.Name+" restarted (VRRP version changed)")
		default:
			delete(byKey, conf.KeyOf(nc))
			next[nc.Name] = in
			if !reflect.DeepEqual(in.cfg, nc) {
				in.vrrp.Update(nc)
				in.cfg = nc
				summary = append(summary, "instance "+nc.Name+" updated")
			}
		}
	}
	d.instances = next
	for _, in := range byKey {
		d.stopInstance(in)
		if slices.IndexFunc(added, func(c vrrp.Config) bool { return conf.KeyOf(c) == conf.KeyOf(in.cfg) }) < 0 {
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

// describe turns a configuration diff into the reload summary; instance
// changes are reported by reconfigureInstances.
func describe(ch conf.Changes) []string {
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
			parts = append(parts, "~"+r.String())
		}
		out = append(out, "service "+sc.Key.String()+" changed ("+strings.Join(parts, " ")+")")
	}
	return out
}
