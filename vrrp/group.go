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

// NewGroup binds the instances to a new group, before or while they run;
// an instance bound to a previous group (an earlier configuration) leaves
// it. An instance may appear only once.
func NewGroup(cfg SyncGroup, members []*Instance, log *slog.Logger) (*Group, error) {
	if log == nil {
		log = slog.Default()
	}
	g := &Group{name: cfg.Name, notify: cfg.Notify, log: log.With("component", "vrrp", "group", cfg.Name), members: map[*Instance]State{}, faults: map[*Instance]bool{}}
	for _, i := range members {
		if _, dup := g.members[i]; dup {
			return nil, fmt.Errorf("sync group %s: instance %s listed twice", cfg.Name, i.Name())
		}
		g.members[i] = i.Status().State
	}
	for _, i := range members {
		if old := i.group.Swap(g); old != nil && old != g {
			old.leave(i)
		}
		i.groupFault.Store(false)
		i.poke() // re-reports its own fault to g
	}
	return g, nil
}

// leave removes an instance that joined another group.
func (g *Group) leave(i *Instance) {
	g.mu.Lock()
	delete(g.members, i)
	fault := g.faults[i]
	delete(g.faults, i)
	g.mu.Unlock()
	if fault {
		g.setFault(nil, false)
	}
}

// setFault records whether a member (nil: none) is faulted by its own
// tracked interfaces; the other members follow it into Fault. Only members
// whose group fault changes are woken.
func (g *Group) setFault(from *Instance, fault bool) {
	g.mu.Lock()
	if from != nil {
		g.faults[from] = fault
	}
	var wake []*Instance
	for i := range g.members {
		other := false
		for j, f := range g.faults {
			other = other || j != i && f
		}
		if i.groupFault.Swap(other) != other {
			wake = append(wake, i)
		}
	}
	g.mu.Unlock()
	for _, i := range wake {
		i.poke()
	}
}

// fault reports what the group knows of a member's own fault.
func (g *Group) fault(i *Instance) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.faults[i]
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
		i.poke()
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
		case StateInit: // every member has stopped
			argv = g.notify.Stop
		}
		n.enqueue(argv, []string{"HAVSD_GROUP=" + g.name, "HAVSD_STATE=" + to.String()})
		g.notifyAll(to, n, from.opts.FIFO)
	}
}
