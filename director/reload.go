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

// instanceKey matches VRRP instances across reloads: same virtual router on
// the same link and family is the same instance, whatever its name.
type instanceKey struct {
	vrid  uint8
	iface string
	ipv6  bool
}

func keyOf(c vrrp.Config) instanceKey { return instanceKey{c.VRID, c.Interface, c.IPv6} }

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
	d.cfg = l.Config
	var summary []string
	summary = append(summary, d.reconfigureInstances(old, d.cfg)...)
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
	d.apply()
	d.reload.OK = true
	if len(summary) == 0 {
		summary = []string{"no change"}
	}
	d.reload.Summary = strings.Join(summary, "; ")
	d.log.Info("reloaded configuration", "changes", d.reload.Summary)
	return d.reload
}

// reconfigureInstances updates kept instances in place, stops removed ones
// and starts new ones.
func (d *Director) reconfigureInstances(old, cur *conf.Config) []string {
	var summary []string
	byKey := make(map[instanceKey]string, len(d.instances))
	for name, in := range d.instances {
		byKey[keyOf(in.cfg)] = name
	}
	kept := make(map[string]bool)
	for _, nc := range cur.Instances {
		name, ok := byKey[keyOf(nc)]
		if !ok {
			if err := d.startInstance(nc); err != nil {
				d.log.Error("reload: starting instance", "instance", nc.Name, "err", err)
				continue
			}
			kept[nc.Name] = true
			summary = append(summary, "instance "+nc.Name+" added")
			continue
		}
		in := d.instances[name]
		if name != nc.Name {
			delete(d.instances, name)
			d.instances[nc.Name] = in
		}
		kept[nc.Name] = true
		if !configEqual(in.cfg, nc) {
			if err := in.vrrp.Update(nc); err != nil {
				d.log.Error("reload: updating instance", "instance", nc.Name, "err", err)
				continue
			}
			in.cfg = nc
			summary = append(summary, "instance "+nc.Name+" updated")
		}
	}
	for name, in := range d.instances {
		if kept[name] {
			continue
		}
		in.cancel()
		d.waitInstance(name, in)
		delete(d.instances, name)
		summary = append(summary, "instance "+name+" removed")
	}
	return summary
}

func configEqual(a, b vrrp.Config) bool { return reflect.DeepEqual(a, b) }

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
