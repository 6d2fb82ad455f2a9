// Package director is havsd's owner of the running state.
//
// One goroutine, Run's, owns the running configuration, the health of every
// real server (as the check scheduler reported its transitions), what it
// was last told of each VRRP instance's state, the drains in progress and
// the Outcome: the desired IPVS table and quorum states, computed by the
// pure Compute from those inputs. It hands the table to the reconciler
// (lvs), which owns the kernel's table; status and metrics read the same
// Outcome through Status, never re-deriving it.
//
// Everything else talks to that goroutine over channels: the scheduler's
// transitions, the trackers' states (vrrp_script, track_file,
// track_process), each instance's Report of its state changes and the end
// of its Run, reload requests (a mailbox of waiting replies that one load
// answers) and closures (Status, Dump, Handover, Resume). From tracked
// services and trackers it computes each instance's priority delta and
// fault, and queues them to the instance. It hands the configured IPVS sync
// daemons to SyncDaemons at start and after a reload that changes them.
//
// The goroutine never waits on an instance: each VRRP instance runs on
// goroutines of its own and owns its socket, timers and VIPs; the director
// queues updates to it and learns of its transitions and its end as events;
// Handover and Resume call the instances from the caller's goroutine. Only
// when the director stops does it wait, bounded, for its instances to step
// down.
//
// adapters.go connects the real collaborators: VRRPs for *vrrp.Instance,
// NewHealth for *checks.Scheduler, NewIPVS for *lvs.Reconciler.
package director
