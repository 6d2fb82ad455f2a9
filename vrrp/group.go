package vrrp

import (
	"fmt"
	"log/slog"
	"sync"
)

// Group makes the instances of a sync group change state together: when
// one goes to Fault the others go to Fault too, when a master among them
// steps down to Backup the other masters step down (and yield until a
// member becomes master again), and the group's notify commands run when
// all members reach the same state.
type Group struct {
	name    string
	notify  Notify
	log     *slog.Logger
	mu      sync.Mutex
	members map[*Instance]State
	faults  map[*Instance]bool // members faulted by their own tracked interfaces
	agreed  State
}

// NewGroup binds the instances to a group; call it before their Run.
func NewGroup(cfg SyncGroup, members []*Instance, log *slog.Logger) (*Group, error) {
	if log == nil {
		log = slog.Default()
	}
	g := &Group{name: cfg.Name, notify: cfg.Notify, log: log.With("component", "vrrp", "group", cfg.Name), members: map[*Instance]State{}, faults: map[*Instance]bool{}}
	for _, i := range members {
		if i.group != nil {
			return nil, fmt.Errorf("sync group %s: instance %s is already in group %s", cfg.Name, i.Name(), i.group.name)
		}
		g.members[i] = StateInit
	}
	for _, i := range members {
		i.group = g
	}
	return g, nil
}

// setFault records whether a member is faulted by its own tracked
// interfaces; the other members follow it into Fault.
func (g *Group) setFault(from *Instance, fault bool) {
	g.mu.Lock()
	g.faults[from] = fault
	for i := range g.members {
		other := false
		for j, f := range g.faults {
			other = other || j != i && f
		}
		i.groupFault.Store(other)
	}
	g.mu.Unlock()
	for i := range g.members {
		if i != from {
			select {
			case i.wake <- struct{}{}:
			default:
			}
		}
	}
}

// changed is called by a member's loop after each of its transitions.
func (g *Group) changed(from *Instance, old, to State, n *notifier) {
	g.mu.Lock()
	g.members[from] = to
	var others []*Instance
	for i := range g.members {
		if i != from {
			others = append(others, i)
		}
	}
	all := true
	for _, s := range g.members {
		all = all && s == to
	}
	runNotify := all && g.agreed != to
	if all {
		g.agreed = to
	}
	g.mu.Unlock()
	for _, i := range others {
		if old == StateMaster && to == StateBackup {
			i.stepDown.Store(true)
		}
		if to == StateMaster {
			i.resume.Store(true)
		}
		select {
		case i.wake <- struct{}{}:
		default:
		}
	}
	if runNotify {
		g.log.Info("sync group state", "state", to.String())
		var argv []string
		switch to {
		case StateMaster:
			argv = g.notify.Master
		case StateBackup:
			argv = g.notify.Backup
		case StateFault:
			argv = g.notify.Fault
		}
		n.enqueue(argv, []string{"HAVSD_GROUP=" + g.name, "HAVSD_STATE=" + to.String()})
	}
}
