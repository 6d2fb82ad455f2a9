package vrrp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	t0    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	peerA = netip.MustParseAddr("10.0.0.2") // higher than srcV4 (10.0.0.1)
	peerL = netip.MustParseAddr("10.0.0.0") // lower than srcV4
)

// op is one line of an event script: advance the fake clock by wait (firing
// every timer that falls due), then optionally inject an event, and check
// the state and the actions of the whole line.
type op struct {
	wait   time.Duration
	frozen bool // the wait passes with no timer firing: the loop is stalled
	rel    bool // for EvStall: the dead-man switch released the VIPs
	ev     EventKind
	adv    Advert
	params func(*Params)
	state  State
	acts   []Action
}

func send(p uint8) Action { return Action{Kind: ActSend, Priority: p} }

func notifyWinner(a netip.Addr) Action { return Action{Kind: ActNotifyWinner, Dst: a} }

var (
	addVIPs = Action{Kind: ActAddVIPs}
	rmVIPs  = Action{Kind: ActRemoveVIPs}
	announc = Action{Kind: ActAnnounce}
)

func adv(src netip.Addr, prio uint8, iv time.Duration) Advert {
	return Advert{Src: src, Priority: prio, Interval: iv}
}

// replay runs a script and returns the final machine and clock.
func replay(t *testing.T, p Params, script []op) (Machine, time.Time) {
	t.Helper()
	m, now := Machine{State: StateInit}, t0
	for i, o := range script {
		var acts []Action
		end := now.Add(o.wait)
		for !o.frozen {
			n := m.Next()
			if n.IsZero() || n.After(end) {
				break
			}
			now = n
			var a []Action
			m, a, _ = Step(m, p, Input{Kind: EvTimer}, now)
			acts = append(acts, a...)
		}
		now = end
		if o.params != nil {
			o.params(&p)
		}
		if o.ev != EvInvalid {
			var a []Action
			in := Input{Kind: o.ev, Advert: o.adv}
			if o.ev == EvStall {
				in.Stall, in.Released = o.wait, o.rel
			}
			m, a, _ = Step(m, p, in, now)
			acts = append(acts, a...)
		}
		if m.State != o.state {
			t.Fatalf("line %d (t=%v): state %v, want %v", i, now.Sub(t0), m.State, o.state)
		}
		if diff := cmp.Diff(o.acts, acts, addrCmp); diff != "" {
			t.Fatalf("line %d (t=%v): actions (-want +got):\n%s", i, now.Sub(t0), diff)
		}
	}
	return m, now
}

func v2params(prio uint8) Params {
	return Params{Version: 2, Priority: prio, AdvertInterval: time.Second, Preempt: true, Local: srcV4}
}

func v3params(prio uint8, iv time.Duration) Params {
	return Params{Version: 3, Priority: prio, AdvertInterval: iv, Preempt: true, Local: srcV4}
}

const mdi100 = 3609375 * time.Microsecond // v2, priority 100, 1 s

var mdi150 = MasterDownInterval(3, 150, 100*time.Millisecond)

func TestFSMScripts(t *testing.T) {
	tests := []struct {
		name   string
		p      Params
		script []op
	}{
		{"backup becomes master after Master_Down_Interval (RFC figure)", v2params(100), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: mdi100 - 1, state: StateBackup},
			{wait: 1, state: StateMaster, acts: []Action{addVIPs, send(100)}},
			{wait: time.Second, state: StateMaster, acts: []Action{send(100)}},
			{wait: 3 * time.Second, state: StateMaster, acts: []Action{send(100), send(100), send(100)}},
		}},
		{"address owner is master at once", v2params(255), []op{
			{ev: EvStartup, state: StateMaster, acts: []Action{addVIPs, send(255)}},
		}},
		{"backup hearing a higher master stays backup", v2params(100), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 3 * time.Second, ev: EvAdvert, adv: adv(peerA, 200, time.Second), state: StateBackup},
			{wait: 3 * time.Second, ev: EvAdvert, adv: adv(peerA, 200, time.Second), state: StateBackup},
			{wait: mdi100 - 1, state: StateBackup},
			{wait: 1, state: StateMaster, acts: []Action{addVIPs, send(100)}},
		}},
		{"master steps down on a higher priority", v2params(100), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 4 * time.Second, state: StateMaster, acts: []Action{addVIPs, send(100)}},
			{ev: EvAdvert, adv: adv(peerL, 101, time.Second), state: StateBackup, acts: []Action{rmVIPs, notifyWinner(peerL)}},
		}},
		{"equal priority: higher address wins", v2params(100), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 4 * time.Second, state: StateMaster, acts: []Action{addVIPs, send(100)}},
			{wait: 2 * time.Second, ev: EvAdvert, adv: adv(peerL, 100, time.Second), state: StateMaster,
				acts: []Action{send(100), send(100), send(100), announc}},
			{ev: EvAdvert, adv: adv(peerL, 99, time.Second), state: StateMaster, acts: []Action{send(100)}}, // announce rate-limited
			{ev: EvAdvert, adv: adv(peerA, 100, time.Second), state: StateBackup, acts: []Action{rmVIPs, notifyWinner(peerA)}},
		}},
		{"master hearing priority 0 re-announces", v2params(100), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 4 * time.Second, state: StateMaster, acts: []Action{addVIPs, send(100)}},
			{ev: EvAdvert, adv: adv(peerA, 0, time.Second), state: StateMaster, acts: []Action{send(100), announc}},
		}},
		{"preempt: a higher backup takes over at the first lower advert", v2params(200), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: time.Second, ev: EvAdvert, adv: adv(peerA, 100, time.Second), state: StateMaster, acts: []Action{addVIPs, send(200)}},
		}},
		{"nopreempt: a higher backup stays backup", func() Params { p := v2params(200); p.Preempt = false; return p }(), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: time.Second, ev: EvAdvert, adv: adv(peerA, 100, time.Second), state: StateBackup},
			{wait: 3 * time.Second, ev: EvAdvert, adv: adv(peerA, 100, time.Second), state: StateBackup},
		}},
		{"preempt delay", func() Params { p := v2params(200); p.PreemptDelay = 10 * time.Second; return p }(), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: time.Second, ev: EvAdvert, adv: adv(peerA, 100, time.Second), state: StateBackup},
			{wait: 3 * time.Second, ev: EvAdvert, adv: adv(peerA, 100, time.Second), state: StateBackup},
			{wait: 3 * time.Second, ev: EvAdvert, adv: adv(peerA, 100, time.Second), state: StateBackup},
			{wait: 2 * time.Second, ev: EvAdvert, adv: adv(peerA, 100, time.Second), state: StateBackup},
			{wait: time.Second, state: StateMaster, acts: []Action{addVIPs, send(200)}}, // at t=10s, by timer
		}},
		{"priority 0: backup takes over after Skew_Time", v2params(100), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: time.Second, ev: EvAdvert, adv: adv(peerA, 200, time.Second), state: StateBackup},
			{wait: time.Second, ev: EvAdvert, adv: adv(peerA, 0, time.Second), state: StateBackup},
			{wait: 609375*time.Microsecond - 1, state: StateBackup},
			{wait: 1, state: StateMaster, acts: []Action{addVIPs, send(100)}},
		}},
		{"graceful stop: make-before-break", v2params(200), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 4 * time.Second, state: StateMaster, acts: []Action{addVIPs, send(200)}},
			{ev: EvShutdown, state: StateMaster, acts: []Action{send(0)}},
			{wait: time.Second, state: StateMaster, acts: []Action{send(0)}},
			{ev: EvAdvert, adv: adv(peerA, 0, time.Second), state: StateMaster},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 100, time.Second), state: StateInit, acts: []Action{rmVIPs}},
			{wait: 10 * time.Second, state: StateInit},
		}},
		{"graceful stop alone: VIPs go after Master_Down_Interval", v2params(100), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 4 * time.Second, state: StateMaster, acts: []Action{addVIPs, send(100)}},
			{ev: EvShutdown, state: StateMaster, acts: []Action{send(0)}},
			{wait: mdi100, state: StateInit, acts: []Action{send(0), send(0), send(0), rmVIPs}},
		}},
		{"backup shutdown", v2params(100), []op{
			{ev: EvStartup, state: StateBackup},
			{ev: EvShutdown, state: StateInit},
			{wait: 10 * time.Second, state: StateInit},
		}},
		{"handover: yield until the new master fails, then resume", v3params(200, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 400 * time.Millisecond, state: StateMaster, acts: []Action{addVIPs, send(200)}},
			{ev: EvHandover, state: StateMaster, acts: []Action{send(0)}},
			{wait: 50 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 100, 100*time.Millisecond), state: StateBackup, acts: []Action{rmVIPs}},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 100, 100*time.Millisecond), state: StateBackup},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 100, 100*time.Millisecond), state: StateBackup},
			{ev: EvResume, state: StateBackup},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 100, 100*time.Millisecond), state: StateMaster, acts: []Action{addVIPs, send(200)}},
		}},
		{"handover: master failure ends the yield", v3params(200, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 400 * time.Millisecond, state: StateMaster, acts: []Action{addVIPs, send(200)}},
			{ev: EvHandover, state: StateMaster, acts: []Action{send(0)}},
			{ev: EvAdvert, adv: adv(peerA, 100, 100*time.Millisecond), state: StateBackup, acts: []Action{rmVIPs}},
			{wait: 400 * time.Millisecond, state: StateMaster, acts: []Action{addVIPs, send(200)}},
		}},
		// A leaving master repeats priority 0 every advert interval until
		// it hears its successor. A backup late to run its Skew_Time timer
		// (a loaded host) finds the next priority 0 queued before it: that
		// one must not push the takeover back, or a slow backup never
		// takes over before the master gives up its handover.
		{"backup late to its skew timer: a repeated priority 0 does not postpone the takeover", v3params(100, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 150, 100*time.Millisecond), state: StateBackup},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 0, 100*time.Millisecond), state: StateBackup},
			{wait: 100 * time.Millisecond, frozen: true, ev: EvAdvert, adv: adv(peerA, 0, 100*time.Millisecond), state: StateBackup},
			{state: StateMaster, acts: []Action{addVIPs, send(100)}},
		}},
		{"backup hearing priority 0 again after the master came back waits Skew_Time from then", v3params(100, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 150, 100*time.Millisecond), state: StateBackup},
			{wait: 10 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 0, 100*time.Millisecond), state: StateBackup},
			{wait: 10 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 150, 100*time.Millisecond), state: StateBackup},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 0, 100*time.Millisecond), state: StateBackup},
			{wait: SkewTime(3, 100, 100*time.Millisecond) - 1, state: StateBackup},
			{wait: 1, state: StateMaster, acts: []Action{addVIPs, send(100)}},
		}},
		{"handover with nobody to take over: stay master", v2params(200), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 4 * time.Second, state: StateMaster, acts: []Action{addVIPs, send(200)}},
			{ev: EvHandover, state: StateMaster, acts: []Action{send(0)}},
			{wait: 4 * time.Second, state: StateMaster, acts: []Action{send(0), send(0), send(0), send(0)}},
			{wait: 218750*time.Microsecond - 1, state: StateMaster},
			{wait: 1, state: StateMaster, acts: []Action{send(200)}}, // MDI for 200 = 3.21875 s, and a second
			{wait: time.Second, state: StateMaster, acts: []Action{send(200)}},
		}},
		// A handover right after this master preempted a lower one: that
		// one's adverts sent before it heard us are not its succession.
		{"handover just after a preemption: the preempted master's stale advert is no successor", v3params(150, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerL, 100, 100*time.Millisecond), state: StateMaster, acts: []Action{addVIPs, send(150)}},
			{ev: EvHandover, state: StateMaster, acts: []Action{send(0)}},
			{wait: 10 * time.Millisecond, ev: EvAdvert, adv: adv(peerL, 100, 100*time.Millisecond), state: StateMaster},
			{wait: 10 * time.Millisecond, ev: EvAdvert, adv: adv(peerL, 0, 100*time.Millisecond), state: StateMaster}, // it gave up
			{wait: 70 * time.Millisecond, ev: EvAdvert, adv: adv(peerL, 100, 100*time.Millisecond), state: StateBackup, acts: []Action{rmVIPs}},
		}},
		{"handover just after a preemption: a preempted master that never gave up counts after Master_Down_Interval", v3params(150, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerL, 100, 100*time.Millisecond), state: StateMaster, acts: []Action{addVIPs, send(150)}},
			{ev: EvHandover, state: StateMaster, acts: []Action{send(0)}},
			{wait: mdi150 - time.Millisecond, ev: EvAdvert, adv: adv(peerL, 100, 100*time.Millisecond), state: StateMaster, acts: []Action{send(0), send(0), send(0)}},
			{wait: time.Millisecond, ev: EvAdvert, adv: adv(peerL, 100, 100*time.Millisecond), state: StateBackup, acts: []Action{rmVIPs}},
		}},
		{"handover to a backup that runs late: its advert after Master_Down_Interval still completes it", v3params(150, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: mdi150, state: StateMaster, acts: []Action{addVIPs, send(150)}},
			{ev: EvHandover, state: StateMaster, acts: []Action{send(0)}},
			{wait: mdi150 + 50*time.Millisecond, state: StateMaster, acts: []Action{send(0), send(0), send(0)}},
			{ev: EvAdvert, adv: adv(peerA, 100, 100*time.Millisecond), state: StateBackup, acts: []Action{rmVIPs}},
		}},
		{"v3 backup learns the master's interval", v3params(100, time.Second), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 500 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 200, 100*time.Millisecond), state: StateBackup},
			{wait: 360937500 - 1, state: StateBackup},
			{wait: 1, state: StateMaster, acts: []Action{addVIPs, send(100)}},
		}},
		{"v2 backup keeps its own interval", v2params(100), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 500 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 200, 2*time.Second), state: StateBackup},
			{wait: mdi100 - 1, state: StateBackup},
			{wait: 1, state: StateMaster, acts: []Action{addVIPs, send(100)}},
		}},
		{"fault from master and back", v2params(100), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 4 * time.Second, state: StateMaster, acts: []Action{addVIPs, send(100)}},
			{params: func(p *Params) { p.Fault = true }, ev: EvCheck, state: StateFault, acts: []Action{send(0), rmVIPs}},
			{wait: 10 * time.Second, ev: EvAdvert, adv: adv(peerA, 1, time.Second), state: StateFault},
			{params: func(p *Params) { p.Fault = false }, ev: EvCheck, state: StateBackup},
			{wait: mdi100, state: StateMaster, acts: []Action{addVIPs, send(100)}},
		}},
		{"fault at startup", func() Params { p := v2params(100); p.Fault = true; return p }(), []op{
			{ev: EvStartup, state: StateFault},
			{wait: 10 * time.Second, state: StateFault},
		}},
		{"lowered priority is advertised at once", v2params(200), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 4 * time.Second, state: StateMaster, acts: []Action{addVIPs, send(200)}},
			{params: func(p *Params) { p.Priority = 50 }, ev: EvCheck, state: StateMaster, acts: []Action{send(50)}},
			{ev: EvAdvert, adv: adv(peerL, 100, time.Second), state: StateBackup, acts: []Action{rmVIPs, notifyWinner(peerL)}},
		}},
		// Resume after a stall (SIGSTOP, a frozen VM): no flurry of
		// transitions, never a master without its VIPs.
		{"master resumes after a long stall: priority 0, release, re-election", v3params(150, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: mdi150, state: StateMaster, acts: []Action{addVIPs, send(150)}},
			{wait: 6 * time.Second, frozen: true, ev: EvStall, state: StateBackup, acts: []Action{send(0), rmVIPs}},
			// The peer took over meanwhile: RFC behaviour, preempt it.
			{wait: 50 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 100, 100*time.Millisecond), state: StateMaster, acts: []Action{addVIPs, send(150)}},
			{wait: 100 * time.Millisecond, state: StateMaster, acts: []Action{send(150)}},
		}},
		{"master alone resumes after a long stall: master again after Master_Down_Interval", v3params(150, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: mdi150, state: StateMaster, acts: []Action{addVIPs, send(150)}},
			{wait: 10 * time.Second, frozen: true, ev: EvStall, state: StateBackup, acts: []Action{send(0), rmVIPs}},
			{wait: MasterDownInterval(3, 150, 100*time.Millisecond) - 1, state: StateBackup},
			{wait: 1, state: StateMaster, acts: []Action{addVIPs, send(150)}},
		}},
		{"master resumes after a short stall: one advert, no flurry", v3params(150, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: mdi150, state: StateMaster, acts: []Action{addVIPs, send(150)}},
			{wait: 2 * time.Second, frozen: true, ev: EvStall, state: StateMaster},
			{frozen: true, ev: EvTimer, state: StateMaster, acts: []Action{send(150)}},
			{wait: 100 * time.Millisecond, state: StateMaster, acts: []Action{send(150)}},
		}},
		{"master whose VIPs the dead-man switch released re-enters the election", v3params(150, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: mdi150, state: StateMaster, acts: []Action{addVIPs, send(150)}},
			{wait: 2 * time.Second, frozen: true, rel: true, ev: EvStall, state: StateBackup, acts: []Action{send(0), rmVIPs}},
		}},
		{"backup resumes after a stall: waits a full Master_Down_Interval", v3params(100, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 150, 100*time.Millisecond), state: StateBackup},
			{wait: 6 * time.Second, frozen: true, ev: EvStall, state: StateBackup},
			{wait: 10 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 150, 100*time.Millisecond), state: StateBackup},
			{wait: 360 * time.Millisecond, state: StateBackup},
		}},
		{"yield after a handover ends after YieldTimeout", func() Params { p := v3params(150, 100*time.Millisecond); p.YieldTimeout = 5 * time.Second; return p }(), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: mdi150, state: StateMaster, acts: []Action{addVIPs, send(150)}},
			{ev: EvHandover, state: StateMaster, acts: []Action{send(0)}},
			{wait: 10 * time.Millisecond, ev: EvAdvert, adv: adv(peerA, 100, 10*time.Second), state: StateBackup, acts: []Action{rmVIPs}},
			{wait: 4 * time.Second, ev: EvAdvert, adv: adv(peerA, 100, 10*time.Second), state: StateBackup},
			{wait: 1 * time.Second, ev: EvAdvert, adv: adv(peerA, 100, 10*time.Second), state: StateMaster, acts: []Action{addVIPs, send(150)}},
		}},
		{"split brain: announce when it starts and once more when it is over", v3params(150, 100*time.Millisecond), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: mdi150, state: StateMaster, acts: []Action{addVIPs, send(150)}},
			{wait: 10 * time.Millisecond, ev: EvAdvert, adv: adv(peerL, 100, 100*time.Millisecond), state: StateMaster, acts: []Action{send(150), announc}},
			// The loser still advertises at +100 ms; one announcement
			// past any client's ARP locktime for its gratuitous ARP.
			{wait: 100 * time.Millisecond, ev: EvAdvert, adv: adv(peerL, 100, 100*time.Millisecond), state: StateMaster, acts: []Action{send(150), send(150)}},
			{wait: 1000 * time.Millisecond, state: StateMaster, acts: []Action{send(150), send(150), send(150), send(150), send(150), send(150), send(150), send(150), send(150), send(150), announc}},
			{wait: 100 * time.Millisecond, state: StateMaster, acts: []Action{send(150)}},
			{wait: 10 * time.Millisecond, ev: EvAdvert, adv: adv(peerL, 100, 100*time.Millisecond), state: StateMaster, acts: []Action{send(150), announc}},
			{wait: 10 * time.Millisecond, ev: EvAdvert, adv: adv(peerL, 100, 100*time.Millisecond), state: StateMaster, acts: []Action{send(150)}},
		}},
		{"sync group step-down yields", v2params(200), []op{
			{ev: EvStartup, state: StateBackup},
			{wait: 4 * time.Second, state: StateMaster, acts: []Action{addVIPs, send(200)}},
			{ev: EvStepDown, state: StateBackup, acts: []Action{send(0), rmVIPs}},
			{wait: time.Second, ev: EvAdvert, adv: adv(peerA, 100, time.Second), state: StateBackup},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { replay(t, tc.p, tc.script) })
	}
}

// TestSplitBrainHeal runs two machines that both became master while cut
// off, then delivers each one's adverts to the other.
func TestSplitBrainHeal(t *testing.T) {
	pa, pb := v3params(100, 100*time.Millisecond), v3params(100, 100*time.Millisecond)
	pb.Local = peerA // B wins the tie-break
	a, b := Machine{State: StateInit}, Machine{State: StateInit}
	now := t0
	a, _, _ = Step(a, pa, Input{Kind: EvStartup}, now)
	b, _, _ = Step(b, pb, Input{Kind: EvStartup}, now)
	now = now.Add(time.Second)
	a, _, _ = Step(a, pa, Input{Kind: EvTimer}, now)
	b, _, _ = Step(b, pb, Input{Kind: EvTimer}, now)
	if a.State != StateMaster || b.State != StateMaster {
		t.Fatalf("cut off: states %v %v, want both MASTER", a.State, b.State)
	}
	// Heal: A's advert reaches B first; B asserts itself and re-announces.
	b, actsB, _ := Step(b, pb, Input{Kind: EvAdvert, Advert: adv(pa.Local, 100, pa.AdvertInterval)}, now)
	if diff := cmp.Diff([]Action{send(100), announc}, actsB, addrCmp); diff != "" {
		t.Errorf("winner actions (-want +got):\n%s", diff)
	}
	a, actsA, why := Step(a, pa, Input{Kind: EvAdvert, Advert: adv(pb.Local, 100, pb.AdvertInterval)}, now)
	if a.State != StateBackup || b.State != StateMaster {
		t.Errorf("healed: states %v %v, want BACKUP MASTER", a.State, b.State)
	}
	if diff := cmp.Diff([]Action{rmVIPs, notifyWinner(pb.Local)}, actsA, addrCmp); diff != "" || why == "" {
		t.Errorf("loser actions (-want +got):\n%s (reason %q)", diff, why)
	}
}

func TestStateStrings(t *testing.T) {
	for s, want := range map[State]string{StateInvalid: "INVALID", StateInit: "INIT", StateBackup: "BACKUP", StateMaster: "MASTER", StateFault: "FAULT"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
	}
	for r := DropTTL; r <= DropNoAddress; r++ {
		if r.String() == "unknown" || r.String() == "none" {
			t.Errorf("reason %d has no name", r)
		}
	}
}

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// TestLoserNotifiesWinnerAgain: a master that loses a split brain tells
// the winner it gave up the VIPs at once and again every
// Master_Adver_Interval for a second, so that one lost packet does not
// leave clients on the loser's MAC; the repeats stop when another master
// is heard, the winner leaves, or the loser becomes master again.
func TestLoserNotifiesWinnerAgain(t *testing.T) {
	iv := 100 * time.Millisecond
	mdi := MasterDownInterval(3, 100, iv)
	lose := []op{
		{ev: EvStartup, state: StateBackup},
		{wait: mdi, state: StateMaster, acts: []Action{addVIPs, send(100)}},
		{ev: EvAdvert, adv: adv(peerA, 150, iv), state: StateBackup, acts: []Action{rmVIPs, notifyWinner(peerA)}},
	}
	t.Run("for a second", func(t *testing.T) {
		s := append([]op(nil), lose...)
		for range notifyRepeats(iv) {
			s = append(s, op{wait: iv, ev: EvAdvert, adv: adv(peerA, 150, iv), state: StateBackup, acts: []Action{notifyWinner(peerA)}})
		}
		s = append(s, op{wait: iv, ev: EvAdvert, adv: adv(peerA, 150, iv), state: StateBackup})
		replay(t, v3params(100, iv), s)
	})
	t.Run("never faster than 100 ms", func(t *testing.T) {
		// At 10 ms adverts the repeats are 100 ms apart, 10 in the
		// second: the winner answers each with an advert and an
		// announcement, so one per interval was a storm.
		fast := 10 * time.Millisecond
		if n := notifyRepeats(fast); n != 10 {
			t.Fatalf("notifyRepeats(10ms) = %d, want 10", n)
		}
		s := []op{
			{ev: EvStartup, state: StateBackup},
			{wait: MasterDownInterval(3, 100, fast), state: StateMaster, acts: []Action{addVIPs, send(100)}},
			{ev: EvAdvert, adv: adv(peerA, 150, fast), state: StateBackup, acts: []Action{rmVIPs, notifyWinner(peerA)}},
		}
		for range 10 { // the winner advertises every 10 ms; a notice every 10th
			for range 9 {
				s = append(s, op{wait: fast, ev: EvAdvert, adv: adv(peerA, 150, fast), state: StateBackup})
			}
			s = append(s, op{wait: fast, ev: EvAdvert, adv: adv(peerA, 150, fast), state: StateBackup, acts: []Action{notifyWinner(peerA)}})
		}
		for range 20 { // and then none
			s = append(s, op{wait: fast, ev: EvAdvert, adv: adv(peerA, 150, fast), state: StateBackup})
		}
		replay(t, v3params(100, fast), s)
	})
	t.Run("until another master is heard", func(t *testing.T) {
		s := append(append([]op(nil), lose...),
			op{wait: iv, state: StateBackup, acts: []Action{notifyWinner(peerA)}},
			op{wait: iv / 2, ev: EvAdvert, adv: adv(peerL, 200, iv), state: StateBackup},
			op{wait: iv, ev: EvAdvert, adv: adv(peerL, 200, iv), state: StateBackup})
		replay(t, v3params(100, iv), s)
	})
	t.Run("until the winner leaves", func(t *testing.T) {
		s := append(append([]op(nil), lose...),
			op{wait: iv / 2, ev: EvAdvert, adv: adv(peerA, 0, iv), state: StateBackup},
			op{wait: iv, state: StateMaster, acts: []Action{addVIPs, send(100)}})
		replay(t, v3params(100, iv), s)
	})
	t.Run("until the loser is master again", func(t *testing.T) {
		s := append(append([]op(nil), lose...),
			op{wait: mdi, state: StateMaster, acts: []Action{notifyWinner(peerA), notifyWinner(peerA), notifyWinner(peerA), addVIPs, send(100)}},
			op{wait: 2 * iv, state: StateMaster, acts: []Action{send(100), send(100)}})
		m, _ := replay(t, v3params(100, iv), s)
		if !m.NotifyAt.IsZero() || m.NotifyLeft != 0 {
			t.Errorf("master still notifying: %+v", m)
		}
	})
}
