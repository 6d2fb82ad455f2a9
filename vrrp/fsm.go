package vrrp

import (
	"fmt"
	"net/netip"
	"time"
)

// State is the state of a virtual router (RFC 5798 §6.4) plus Fault. The
// zero value is invalid.
type State uint8

// States of an instance.
const (
	StateInvalid State = iota
	StateInit          // Initialize: not participating (before start, after stop)
	StateBackup        // monitoring the master
	StateMaster        // holding the VIPs and advertising
	StateFault         // a tracked interface is down: not participating
)

// String returns the state's name as operators know it, e.g. "MASTER".
func (s State) String() string {
	switch s {
	case StateInit:
		return "INIT"
	case StateBackup:
		return "BACKUP"
	case StateMaster:
		return "MASTER"
	case StateFault:
		return "FAULT"
	}
	return "INVALID"
}

// EventKind is what happened to the state machine. The zero value is invalid.
type EventKind uint8

// Events the state machine reacts to.
const (
	EvInvalid  EventKind = iota
	EvStartup            // the instance starts (RFC Startup event)
	EvShutdown           // graceful stop (RFC Shutdown event, make-before-break)
	EvHandover           // planned handover: like shutdown but stay a yielding backup
	EvResume             // undo a handover: preempt again
	EvTimer              // a deadline may have passed
	EvAdvert             // a valid advert from another router
	EvCheck              // parameters changed (priority, interval, fault)
	EvStepDown           // a sync group member left MASTER: follow it
	EvStall              // the loop resumes after not running for Input.Stall (process stopped, host frozen)
)

// Advert is the part of a received, validated advertisement the state machine uses.
type Advert struct {
	Src      netip.Addr    // sender's primary address (IP source)
	Priority uint8         // sender's priority
	Interval time.Duration // sender's advert interval (v3: Master_Adver_Interval)
}

// Input is one event fed to the state machine.
type Input struct {
	Kind   EventKind
	Advert Advert // for EvAdvert
	// For EvStall: how long the loop did not run, and whether the
	// dead-man switch released the VIPs meanwhile (Instance.ReleaseIfStalled).
	Stall    time.Duration
	Released bool
}

// Params are the instance's current settings, read at each step.
type Params struct {
	Version        int
	Priority       uint8 // effective priority: configured minus deltas, 1..255
	AdvertInterval time.Duration
	Preempt        bool
	PreemptDelay   time.Duration
	Local          netip.Addr // our primary address, for the equal-priority tie-break
	Fault          bool       // a tracked interface (weight 0) or a sync group member is down
	FaultReason    string     // why, for the log and status
	// YieldTimeout ends the yield after a handover (0: it lasts until the
	// new master fails, the next handover back or EvResume).
	YieldTimeout time.Duration
}

// ActionKind is an effect the state machine asks for. The zero value is invalid.
type ActionKind uint8

// Actions.
const (
	ActInvalid      ActionKind = iota
	ActSend                    // send an advert with Action.Priority
	ActAddVIPs                 // add the VIPs and start gratuitous ARP / NA bursts
	ActRemoveVIPs              // remove the VIPs
	ActAnnounce                // re-send gratuitous ARP / NA for the VIPs held
	ActNotifyWinner            // tell the master that beat us (Action.Dst) that we gave up the VIPs
)

// String names the action.
func (k ActionKind) String() string {
	return [...]string{"invalid", "send", "add-vips", "remove-vips", "announce", "notify-winner"}[min(int(k), 5)]
}

// Action is one effect.
type Action struct {
	Kind     ActionKind
	Priority uint8      // for ActSend
	Dst      netip.Addr // for ActNotifyWinner
}

func (a Action) String() string {
	if a.Kind == ActSend {
		return fmt.Sprintf("send(%d)", a.Priority)
	}
	return a.Kind.String()
}

type leaveMode uint8

const (
	leaveNone leaveMode = iota
	leaveHandover
	leaveShutdown
)

// reannounceGap bounds how often a master re-announces its VIPs when it
// hears a lower-priority master (split-brain heal).
const reannounceGap = time.Second

// Machine is the state of one virtual router; timers are deadlines (zero
// means not running). Step is its only mutator.
type Machine struct {
	State               State
	MasterAdverInterval time.Duration // learnt from the master in v3
	MasterAddr          netip.Addr    // current master (ourselves when master)
	MasterPriority      uint8
	DownAt              time.Time // Master_Down_Timer (Backup)
	AdvertAt            time.Time // Adver_Timer (Master)
	PreemptAfter        time.Time // preemption allowed from then (preempt delay)
	LowerMaster         bool      // a lower-priority master is tolerated until PreemptAfter
	Yield               bool      // after a handover: never preempt until the master fails or EvResume
	YieldSince          time.Time // when Yield was set
	yieldLimit          time.Duration
	Leave               leaveMode
	LeaveBy             time.Time // end of make-before-break: give up the VIPs by then
	LastAnnounce        time.Time
	// LowerSeen is when a master last heard a lower-priority master (split
	// brain); AnnounceAt re-announces the VIPs once that episode is over,
	// for clients that followed the loser's gratuitous ARP.
	LowerSeen  time.Time
	AnnounceAt time.Time
	// A master that lost a split brain tells the winner (priority 0,
	// unicast) that it gave up the VIPs, so the winner re-announces them
	// to clients that followed the loser's gratuitous ARP. That notice is
	// one packet and may be lost as the loser's adverts were: it is sent
	// again at NotifyAt, NotifyLeft more times, while the winner is the
	// master heard.
	NotifyAt   time.Time
	NotifyLeft int
	NotifyDst  netip.Addr
	// Preempted is the lower-priority master this one preempted, from
	// PreemptedAt until it is heard giving up (priority 0) or for
	// Master_Down_Interval: its adverts meanwhile were sent before it
	// heard us, and a handover must not take one for its successor's.
	Preempted   netip.Addr
	PreemptedAt time.Time
}

// Leaving reports whether a master is handing over (priority-0 adverts sent,
// VIPs still held until the new master is heard).
func (m Machine) Leaving() bool { return m.Leave != leaveNone }

// Next returns the earliest running deadline, or the zero time.
func (m Machine) Next() time.Time {
	var next time.Time
	for _, t := range []time.Time{m.DownAt, m.AdvertAt, m.LeaveBy, m.AnnounceAt, m.NotifyAt} {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if m.LowerMaster && (next.IsZero() || m.PreemptAfter.Before(next)) {
		next = m.PreemptAfter
	}
	if t := m.YieldUntil(); !t.IsZero() && (next.IsZero() || t.Before(next)) {
		next = t
	}
	return next
}

// YieldUntil is when a yield after a handover ends by itself (the zero time
// when not yielding or without Params.YieldTimeout).
func (m Machine) YieldUntil() time.Time {
	if !m.Yield || m.yieldLimit <= 0 {
		return time.Time{}
	}
	return m.YieldSince.Add(m.yieldLimit)
}

// StallRelease is how long a master's loop may stand still before it must
// not trust its mastership any more: on resuming it releases its VIPs with
// a priority-0 advert and re-enters the election. The dead-man switch
// (Instance.ReleaseIfStalled) uses the same bound, so the outcome does not
// depend on which of the two notices the stall first. The loop runs at
// least every second (its heartbeat), so 3 s of silence is no scheduling
// hiccup.
func StallRelease(advert time.Duration) time.Duration { return 3*time.Second + 3*advert }

// stallGap is how long the loop may go without running before its timers
// no longer mean anything: its own heartbeat period plus the longest timer.
func stallGap(p Params) time.Duration {
	return time.Second + MasterDownInterval(p.Version, p.Priority, p.AdvertInterval)
}

// IsStall reports whether a loop that last ran gap ago has stalled.
func IsStall(p Params, gap time.Duration) bool { return gap > stallGap(p) }

func due(t, now time.Time) bool { return !t.IsZero() && !now.Before(t) }

// Step applies one event at time now and returns the new machine, the
// actions to perform in order and, when the state changed, the reason.
func Step(m Machine, p Params, in Input, now time.Time) (Machine, []Action, string) {
	m.yieldLimit = p.YieldTimeout
	if in.Kind == EvStall {
		return stall(m, p, in, now)
	}
	if in.Kind == EvShutdown || in.Kind == EvHandover {
		return leave(m, p, in.Kind, now)
	}
	if m.State == StateInit && in.Kind != EvStartup {
		return m, nil, ""
	}
	if p.Fault && m.State != StateFault {
		return toFault(m, p)
	}
	switch in.Kind {
	case EvStartup:
		if m.State != StateInit {
			return m, nil, ""
		}
		return start(m, p, now, "startup")
	case EvResume:
		m.Yield, m.YieldSince = false, time.Time{}
		return m, nil, ""
	}
	if in.Kind == EvTimer && due(m.YieldUntil(), now) {
		m.Yield, m.YieldSince = false, time.Time{}
	}
	switch m.State {
	case StateFault:
		if !p.Fault {
			return start(m, p, now, "tracked interfaces up again")
		}
	case StateBackup:
		return backup(m, p, in, now)
	case StateMaster:
		return master(m, p, in, now)
	}
	return m, nil, ""
}

// preempt takes over from the lower-priority master src, remembered until
// it gives up (Machine.Preempted).
func preempt(m Machine, p Params, now time.Time, src netip.Addr, why string) (Machine, []Action, string) {
	m, acts, why := toMaster(m, p, now, why)
	m.Preempted, m.PreemptedAt = src, now
	return m, acts, why
}

func start(m Machine, p Params, now time.Time, why string) (Machine, []Action, string) {
	m.Leave, m.LeaveBy, m.Yield, m.YieldSince = leaveNone, time.Time{}, false, time.Time{}
	if p.Priority == 255 {
		return toMaster(m, p, now, why+": address owner (priority 255)")
	}
	m.PreemptAfter = now.Add(p.PreemptDelay)
	return toBackup(m, p, now, netip.Addr{}, 0, p.AdvertInterval, why)
}

func toFault(m Machine, p Params) (Machine, []Action, string) {
	var acts []Action
	if m.State == StateMaster {
		acts = []Action{{Kind: ActSend, Priority: 0}, {Kind: ActRemoveVIPs}}
	}
	m = Machine{State: StateFault, MasterAdverInterval: p.AdvertInterval}
	why := p.FaultReason
	if why == "" {
		why = "tracked interface down"
	}
	return m, acts, "fault: " + why
}

func toMaster(m Machine, p Params, now time.Time, why string) (Machine, []Action, string) {
	m.State = StateMaster
	m.DownAt, m.LowerMaster, m.Yield, m.YieldSince = time.Time{}, false, false, time.Time{}
	m.stopNotify()
	m.MasterAddr, m.MasterPriority, m.MasterAdverInterval = p.Local, p.Priority, p.AdvertInterval
	m.AdvertAt = now.Add(p.AdvertInterval)
	// VIPs and their first gratuitous ARP go before the advert: a master
	// handing over releases its VIPs when it hears this advert, so clients
	// must already follow us (make-before-break).
	return m, []Action{{Kind: ActAddVIPs}, {Kind: ActSend, Priority: p.Priority}}, why
}

// toBackup enters (or stays in) Backup, learning the master from an advert.
func toBackup(m Machine, p Params, now time.Time, src netip.Addr, prio uint8, interval time.Duration, why string) (Machine, []Action, string) {
	var acts []Action
	if m.State == StateMaster {
		acts = append(acts, Action{Kind: ActRemoveVIPs})
	}
	m.State = StateBackup
	m.AdvertAt, m.Leave, m.LeaveBy = time.Time{}, leaveNone, time.Time{}
	m.LowerSeen, m.AnnounceAt = time.Time{}, time.Time{}
	m.Preempted, m.PreemptedAt = netip.Addr{}, time.Time{}
	m.MasterAddr, m.MasterPriority = src, prio
	if p.Version == 3 && interval > 0 {
		m.MasterAdverInterval = interval
	} else {
		m.MasterAdverInterval = p.AdvertInterval
	}
	m.DownAt = now.Add(MasterDownInterval(p.Version, p.Priority, m.MasterAdverInterval))
	return m, acts, why
}

func backup(m Machine, p Params, in Input, now time.Time) (Machine, []Action, string) {
	switch in.Kind {
	case EvTimer:
		if due(m.DownAt, now) {
			return toMaster(m, p, now, "master down timer expired")
		}
		if m.LowerMaster && due(m.PreemptAfter, now) && p.Preempt && !m.Yield {
			return preempt(m, p, now, m.MasterAddr, fmt.Sprintf("preempting master %v (priority %d) after preempt delay", m.MasterAddr, m.MasterPriority))
		}
		if due(m.NotifyAt, now) {
			a := Action{Kind: ActNotifyWinner, Dst: m.NotifyDst}
			m.NotifyLeft--
			m.NotifyAt = now.Add(notifyGap(m.MasterAdverInterval))
			if m.NotifyLeft <= 0 {
				m.stopNotify()
			}
			return m, []Action{a}, ""
		}
	case EvAdvert:
		a := in.Advert
		if a.Src != m.NotifyDst || a.Priority == 0 {
			m.stopNotify() // another master, or the winner leaving
		}
		if a.Priority == 0 {
			// The master is leaving: take over after Skew_Time. It
			// repeats priority 0 every interval until it hears us; a
			// repeat never moves the deadline later, or a backup that
			// runs late (a loaded host: the next priority 0 is queued
			// before its timer fires) would keep postponing the
			// takeover past the end of the master's handover.
			if at := now.Add(SkewTime(p.Version, p.Priority, m.MasterAdverInterval)); m.DownAt.IsZero() || at.Before(m.DownAt) {
				m.DownAt = at
			}
			m.LowerMaster = false
			return m, nil, ""
		}
		if p.Preempt && !m.Yield && a.Priority < p.Priority {
			if !now.Before(m.PreemptAfter) {
				return preempt(m, p, now, a.Src, fmt.Sprintf("preempting master %v with lower priority %d", a.Src, a.Priority))
			}
			m.LowerMaster = true
		} else {
			m.LowerMaster = false
		}
		m, _, _ = toBackup(m, p, now, a.Src, a.Priority, a.Interval, "")
	}
	return m, nil, ""
}

// higher reports whether an advert beats us: higher priority, or equal
// priority from a higher primary address (RFC 5798 §6.4.3).
func higher(a Advert, p Params) bool {
	return a.Priority > p.Priority || a.Priority == p.Priority && a.Src.Compare(p.Local) > 0
}

func master(m Machine, p Params, in Input, now time.Time) (Machine, []Action, string) {
	switch in.Kind {
	case EvTimer:
		if m.Leave == leaveHandover && due(m.LeaveBy, now) {
			// Nobody took over: stay master rather than leave the VIPs
			// unserved.
			m.Leave, m.LeaveBy = leaveNone, time.Time{}
			return m, []Action{sendNow(&m, p, now)}, ""
		}
		if m.Leave == leaveShutdown && due(m.LeaveBy, now) {
			return left(m, p, now, Advert{}, "no new master heard before Master_Down_Interval")
		}
		var acts []Action
		if due(m.AnnounceAt, now) {
			m.AnnounceAt, m.LastAnnounce = time.Time{}, now
			acts = append(acts, Action{Kind: ActAnnounce})
			if now.Sub(m.LowerSeen) < splitOver(p) {
				m.AnnounceAt = m.LowerSeen.Add(announceAfter(p)) // once more after it ends
			}
		}
		if due(m.AdvertAt, now) {
			// Keep adverts on their grid so timer latency does not
			// stretch the interval; restart it if far behind.
			next := m.AdvertAt.Add(p.AdvertInterval)
			a := sendNow(&m, p, now)
			if next.After(now) {
				m.AdvertAt = next
			}
			return m, append([]Action{a}, acts...), ""
		}
		return m, acts, ""
	case EvCheck:
		// Tell backups our new priority now, so they can preempt.
		return m, []Action{sendNow(&m, p, now)}, ""
	case EvStepDown:
		if m.Leave != leaveNone {
			return m, nil, ""
		}
		m, acts, why := toBackup(m, p, now, netip.Addr{}, 0, 0, "sync group member left MASTER")
		m.Yield, m.YieldSince = true, now
		return m, append([]Action{{Kind: ActSend, Priority: 0}}, acts...), why
	case EvAdvert:
		a := in.Advert
		switch {
		case m.Leave != leaveNone:
			if a.Src == m.Preempted && (a.Priority == 0 || now.Sub(m.PreemptedAt) >= MasterDownInterval(p.Version, p.Priority, p.AdvertInterval)) {
				m.Preempted, m.PreemptedAt = netip.Addr{}, time.Time{} // it gave up, or never heard us
			}
			if a.Priority > 0 && a.Src != m.Preempted {
				return left(m, p, now, a, fmt.Sprintf("new master %v heard (priority %d)", a.Src, a.Priority))
			}
			return m, nil, ""
		case higher(a, p):
			// Split brain healing, losing side: give up, and tell the
			// winner so it re-announces the VIPs clients may have
			// learnt from us.
			m, acts, why := toBackup(m, p, now, a.Src, a.Priority, a.Interval,
				fmt.Sprintf("higher priority advert from %v (priority %d, ours %d)", a.Src, a.Priority, p.Priority))
			m.NotifyDst, m.NotifyLeft = a.Src, notifyRepeats(m.MasterAdverInterval)
			m.NotifyAt = now.Add(notifyGap(m.MasterAdverInterval))
			return m, append(acts, Action{Kind: ActNotifyWinner, Dst: a.Src}), why
		default:
			// Another master with lower priority, or one that gave up
			// (priority 0; split brain healing): assert ourselves now and
			// re-announce the VIPs. A loser's priority 0 always gets its
			// announcement (clients may have learnt its MAC since the
			// last one, when the peer flaps under advert loss); a lower
			// master's adverts, repeated every interval, are rate-limited.
			acts := []Action{sendNow(&m, p, now)}
			fresh := false
			if a.Priority > 0 {
				// A new split-brain episode is announced at once, and
				// again past the clients' ARP locktime for the loser's
				// gratuitous ARP (sent just before its first advert).
				fresh = m.LowerSeen.IsZero() || now.Sub(m.LowerSeen) >= splitOver(p)
			}
			m.LowerSeen = now
			switch {
			case fresh:
				m.AnnounceAt = now.Add(neighLock)
			case m.AnnounceAt.IsZero():
				// Once more when it is over (a loser's priority 0
				// may be its last word).
				m.AnnounceAt = now.Add(announceAfter(p))
			}
			if a.Priority == 0 || fresh || now.Sub(m.LastAnnounce) >= reannounceGap {
				m.LastAnnounce = now
				acts = append(acts, Action{Kind: ActAnnounce})
			}
			return m, acts, ""
		}
	}
	return m, nil, ""
}

// notifyRepeats is how many times a loser repeats its notice to the
// winner, notifyGap apart: for a second, and at least 3 times. Under 50 %
// loss of the packets between the directors, the notice and all its
// repeats are lost once in 2^11 split brains at 100 ms adverts (the winner
// may also have heard one of the loser's adverts).
func notifyRepeats(masterAdverInterval time.Duration) int {
	return max(3, int(notifyFor/notifyGap(masterAdverInterval)))
}

// notifyGap spaces the repeats: one Master_Adver_Interval, but never less
// than notifyMinGap. Each notice makes the winner advertise and re-announce
// its VIPs; at 10 ms adverts one notice per interval was 100 per split
// brain and instance, and with many instances on a loaded host that storm
// delayed the backups' own loops into further split brains.
func notifyGap(masterAdverInterval time.Duration) time.Duration {
	return max(masterAdverInterval, notifyMinGap)
}

const notifyMinGap = 100 * time.Millisecond

const notifyFor = time.Second

func (m *Machine) stopNotify() {
	m.NotifyAt, m.NotifyLeft, m.NotifyDst = time.Time{}, 0, netip.Addr{}
}

// splitOver is how long a master must not hear a lower master before the
// split brain counts as over: three of our advert intervals.
func splitOver(p Params) time.Duration { return 3 * p.AdvertInterval }

// neighLock is a little more than Linux's default neighbour locktime (1 s):
// a host ignores an ARP update that comes within locktime of the previous
// one, so an announcement made just after the loser's gratuitous ARP may be
// lost on clients.
const neighLock = 1100 * time.Millisecond

// announceAfter is how long after the last advert of a lower master the
// VIPs are announced once more: when the split brain is over and past any
// client's locktime for the loser's gratuitous ARP.
func announceAfter(p Params) time.Duration { return max(splitOver(p), neighLock) }

func sendNow(m *Machine, p Params, now time.Time) Action {
	m.AdvertAt = now.Add(p.AdvertInterval)
	prio := p.Priority
	if m.Leave != leaveNone {
		prio = 0
	}
	return Action{Kind: ActSend, Priority: prio}
}

// leave starts a graceful stop or handover. A master advertises priority 0
// and keeps its VIPs until it hears the new master or LeaveBy passes.
func leave(m Machine, p Params, kind EventKind, now time.Time) (Machine, []Action, string) {
	mode := leaveHandover
	if kind == EvShutdown {
		mode = leaveShutdown
	}
	if m.State != StateMaster {
		if mode == leaveShutdown && m.State != StateInit {
			return Machine{State: StateInit}, nil, "shutdown"
		}
		return m, nil, ""
	}
	first := m.Leave == leaveNone
	if m.Leave < mode {
		m.Leave = mode
	}
	if !first {
		return m, nil, ""
	}
	m.LeaveBy = now.Add(leaveWait(p, mode))
	return m, []Action{sendNow(&m, p, now)}, ""
}

// leaveWait is how long a leaving master keeps its VIPs waiting for a new
// master: Master_Down_Interval when it stops (it goes anyway), and for a
// handover as long as a backup's loop may run late without counting as
// stalled (stallGap: its heartbeat plus Master_Down_Interval). A backup on
// a loaded host takes over a few hundred milliseconds late; a handover
// that gave up at Master_Down_Interval failed there, and the late backup
// then took over for a moment anyway.
func leaveWait(p Params, mode leaveMode) time.Duration {
	if mode == leaveHandover {
		return stallGap(p)
	}
	return MasterDownInterval(p.Version, p.Priority, p.AdvertInterval)
}

// left ends a make-before-break: the VIPs go, then Init (shutdown) or a
// yielding Backup (handover).
func left(m Machine, p Params, now time.Time, a Advert, why string) (Machine, []Action, string) {
	if m.Leave == leaveShutdown {
		return Machine{State: StateInit}, []Action{{Kind: ActRemoveVIPs}}, "shutdown: " + why
	}
	m, acts, _ := toBackup(m, p, now, a.Src, a.Priority, a.Interval, "")
	m.Yield, m.YieldSince = true, now
	return m, acts, "handover: " + why
}

// stall handles a loop that resumes after standing still for in.Stall: its
// deadlines passed while nothing ran, so none of them is trusted. A master
// that stalled for StallRelease, or whose VIPs the dead-man switch
// released, gives them up with a priority-0 advert and becomes a backup
// that waits a full Master_Down_Interval (the RFC election from there on:
// it preempts a lower master at its first advert). A shorter stall leaves a
// master as it is (its next advert settles any split brain by priority). A
// backup re-arms its Master_Down_Timer instead of declaring a master down
// whose adverts are still queued behind the stall.
func stall(m Machine, p Params, in Input, now time.Time) (Machine, []Action, string) {
	switch m.State {
	case StateMaster:
		if m.Leave == leaveNone && (in.Released || in.Stall >= StallRelease(p.AdvertInterval)) {
			why := fmt.Sprintf("resumed after a stall of %v: VIPs released, re-entering the election", in.Stall.Round(time.Millisecond))
			m, acts, _ := toBackup(m, p, now, netip.Addr{}, 0, p.AdvertInterval, "")
			m.LowerMaster, m.PreemptAfter = false, now
			return m, append([]Action{{Kind: ActSend, Priority: 0}}, acts...), why
		}
		if in.Released {
			// Leaving anyway: the VIPs are gone, finish now.
			return left(m, p, now, Advert{}, "VIPs released by the dead-man switch")
		}
	case StateBackup:
		m.DownAt = now.Add(MasterDownInterval(p.Version, p.Priority, m.MasterAdverInterval))
		m.LowerMaster = false
	}
	return m, nil, ""
}
