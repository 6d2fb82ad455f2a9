package director

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/havsd/havsd/vrrp"
)

// bgpLinks watches the interfaces of the configuration's track_interface
// for the BGP announcements: a director whose tracked link is down or gone
// withdraws its routes. It is owned by the Run goroutine; the watcher's
// goroutine only sends states on ch.
type bgpLinks struct {
	names  []string
	cancel context.CancelFunc
	ch     chan vrrp.LinkState // the current watcher's; nil without one
	states map[string]vrrp.LinkState
}

// trackedLinks are the interfaces every track_interface of cfg names,
// sorted; none when no service is announced by BGP.
func trackedLinks(d *Director) []string {
	if !hasBGPServices(d.cfg) {
		return nil
	}
	set := map[string]bool{}
	for _, ws := range d.cfg.Trackers.Interfaces {
		for _, w := range ws {
			set[w.Name] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// watchLinks (re)starts the link watcher when the tracked interfaces
// changed; the new watcher reports their current state first.
func (d *Director) watchLinks() {
	names := trackedLinks(d)
	if slices.Equal(names, d.bgp.links.names) || d.deps.Links == nil || d.bgp.ctx == nil {
		return
	}
	if d.bgp.links.cancel != nil {
		d.bgp.links.cancel()
	}
	d.bgp.links = bgpLinks{names: names, states: map[string]vrrp.LinkState{}}
	if len(names) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(d.bgp.ctx)
	ch := make(chan vrrp.LinkState, 16)
	d.bgp.links.cancel, d.bgp.links.ch = cancel, ch
	d.goRun(ctx, "tracked links", func(ctx context.Context) error { return d.deps.Links.Watch(ctx, names, ch) })
}

// onLink records a tracked interface's state.
func (d *Director) onLink(ls vrrp.LinkState) {
	if slices.Contains(d.bgp.links.names, ls.Name) {
		d.bgp.links.states[ls.Name] = ls
		d.announce()
	}
}

// downLinks names the tracked interfaces that are down or gone.
func (d *Director) downLinks() string {
	var down []string
	for _, n := range d.bgp.links.names {
		switch ls, ok := d.bgp.links.states[n]; {
		case !ok: // not reported yet
		case ls.Gone:
			down = append(down, "track_interface "+n+" does not exist")
		case !ls.Up:
			down = append(down, "track_interface "+n+" is down")
		}
	}
	return strings.Join(down, "; ")
}
