package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/havsd/havsd/internal/clock"
	"github.com/havsd/havsd/vrrp/vip"
)

// loop is the state owned by Run's goroutine.
type loop struct {
	i      *Instance
	log    *slog.Logger
	cfg    Config
	val    validator
	local  netip.Addr
	m      Machine
	held   []vip.Address
	bursts sync.WaitGroup
	stopB  context.CancelFunc // cancels the running burst
	timer  clock.Timer
	timerC <-chan time.Time
	timerT time.Time

	sock    sock   // the socket, or why there is none
	sendBuf []byte // the advert last sealed, reused for the next

	// ev, when not nil, is the loop's event loop (evloop_linux.go): while
	// the socket is in it the loop waits there for adverts, its deadline
	// and kicks of its mailbox (the channels below), instead of in select.
	ev       *evLoop
	beatAt   time.Time // the heartbeat's next run, while waiting on ev
	mailMore bool      // a mailbox input was taken: look for more first

	links   map[string]LinkState // watched link → last state
	watch   context.CancelFunc
	watches sync.WaitGroup
	linkCh  chan LinkState
	addrCh  chan struct{} // addresses changed somewhere on the host

	kernel  vipView   // the VIPs as last read from the kernel
	nextVIP time.Time // next periodic re-read of the kernel's addresses

	waitHO   []chan error
	known    map[netip.Addr]bool
	mismatch map[netip.Addr][]netip.Addr // peer → its differing address list, as logged
	warned   map[DropReason]time.Time
	lastRun  time.Time // end of the last iteration, for stall detection
	faulted  bool      // own fault as last reported to the sync group
	notify   *notifier
}

// heartbeatEvery is the longest the loop waits without running: it ticks
// at least this often, so a longer silence is a stall.
const heartbeatEvery = time.Second

// vipCheckEvery is the backstop re-read of the kernel's addresses, behind
// the netlink address subscription.
const vipCheckEvery = 5 * time.Second

// Run runs the instance until ctx is cancelled; then it stops gracefully: a
// master advertises priority 0 and keeps its VIPs until it hears the new
// master (at most Master_Down_Interval), then removes them, runs the stop
// notify command and returns nil. While its socket cannot be opened (no
// such interface, no primary address) or is lost, the instance is in FAULT
// with the reason in Status.FaultReason, and it retries every second and on
// every change of its interface. It returns an error only if an injected
// Conn (Options.Conn) fails, after giving up the VIPs.
func (i *Instance) Run(ctx context.Context) (err error) {
	i.mu.Lock()
	if i.running {
		i.mu.Unlock()
		return fmt.Errorf("vrrp instance %s: already running", i.cfg.Name)
	}
	cfg := i.cfg
	i.mu.Unlock()

	l := &loop{
		i: i, log: i.log, cfg: cfg,
		links: map[string]LinkState{}, linkCh: make(chan LinkState, 16), addrCh: make(chan struct{}, 1),
		known: map[netip.Addr]bool{}, mismatch: map[netip.Addr][]netip.Addr{}, warned: map[DropReason]time.Time{},
		notify: newNotifier(i.log, i.opts.NotifyTimeout),
	}
	l.sock.init(i)
	// The event loop works on the kernel's clock: with a fake clock (tests)
	// the loop waits in select.
	if _, real := i.clock.(clock.Real); real {
		if ev, err := newEvLoop(); err == nil {
			l.ev = ev
			i.ev.Store(ev)
			defer ev.close()
			defer i.ev.Store(nil)
			stop := context.AfterFunc(ctx, ev.wake)
			defer stop()
		} else {
			l.log.Debug("VRRP loop waits in select", "err", err)
		}
	}
	l.val = l.validator(cfg)

	stopped := make(chan struct{})
	i.mu.Lock()
	i.running, i.stopped = true, stopped
	i.mu.Unlock()
	// Deferred in reverse: the event forwarder outlives the loop so the
	// last transitions reach the reader.
	stopEvents, eventsDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(eventsDone); i.events.forward(i.clock, stopEvents) }()
	defer func() { close(stopEvents); <-eventsDone }()
	defer func() {
		i.mu.Lock()
		i.running = false
		i.mu.Unlock()
		close(stopped)
	}()
	go l.notify.run()
	defer l.notify.close()
	defer l.sock.close(l)
	l.startWatch(ctx)
	defer l.stopWatch()

	// A crashed predecessor may have left our VIPs behind: the first
	// reconcile (we are not master yet) removes them.
	l.syncVIPs("start")
	err = l.run(ctx)
	if g := i.group.Load(); g != nil && l.faulted {
		g.setFault(i, false)
	}
	if l.stopB != nil {
		l.stopB()
	}
	l.bursts.Wait()
	if err != nil {
		l.removeVIPs()
		return fmt.Errorf("vrrp instance %s: %w", cfg.Name, err)
	}
	l.notify.enqueue(l.cfg.Notify.Stop, l.env(l.i.Status().LastTransition.From, StateInit, "stop"))
	return nil
}

func (l *loop) run(ctx context.Context) error {
	done := ctx.Done()
	heartbeat := l.i.clock.NewTimer(heartbeatEvery)
	defer func() { heartbeat.Stop() }()
	l.sock.open(l)
	l.step(Input{Kind: EvStartup})
	l.lastRun = l.i.clock.Now()
	for {
		if done == nil {
			if l.m.State == StateInit {
				return nil
			}
			if l.m.State != StateMaster {
				// Stopping, but a fault or step-down took us out of
				// MASTER meanwhile: finish the stop now.
				l.step(Input{Kind: EvShutdown})
				continue
			}
		}
		if l.sock.fast {
			if err := l.waitEv(&done); err != nil {
				return err
			}
		} else if err := l.waitSelect(&done, heartbeat); err != nil {
			return err
		}
		now := l.i.clock.Now()
		l.lastRun = now
		l.i.mu.Lock()
		l.i.status.Heartbeat = now
		l.i.mu.Unlock()
	}
}

// waitSelect waits for the next input on the channels and handles it: the
// socket reader's datagrams and errors, the machine's timer, the heartbeat
// and the mailbox.
func (l *loop) waitSelect(donep *<-chan struct{}, heartbeat clock.Timer) error {
	l.beatAt = time.Time{}
	l.armTimer()
	select {
	case <-*donep:
		l.resumed()
		*donep = nil
		l.step(Input{Kind: EvShutdown})
	case d := <-l.sock.rx:
		l.resumed()
		l.receive(d)
		release(d)
	case <-l.timerC:
		l.timerC, l.timerT = nil, time.Time{}
		l.resumed()
		// Adverts already queued count before a timer: under a
		// flood, the master's advert may be waiting behind junk.
		for n := len(l.sock.rx); n > 0; n-- {
			d := <-l.sock.rx
			l.receive(d)
			release(d)
		}
		l.step(Input{Kind: EvTimer})
	case f := <-l.i.cmds:
		l.resumed()
		f(l)
	case <-l.i.wake:
		l.resumed()
		l.groupPoke()
	case ls := <-l.linkCh:
		l.resumed()
		l.linkChanged(ls)
	case <-l.addrCh:
		l.resumed()
		l.syncVIPs("address change")
	case <-heartbeat.C():
		heartbeat.Reset(heartbeatEvery)
		l.resumed()
		l.tick()
	case e := <-l.sock.rxErr:
		l.resumed()
		if err := l.sock.failed(l, e); err != nil {
			return err
		}
	}
	return nil
}

// waitEv is waitSelect while the socket is in the event loop: one wait
// for the socket, the deadline (the machine's next, or the heartbeat's)
// and a kick of the mailbox; then queued adverts first, one mailbox input,
// and whatever deadline has passed.
func (l *loop) waitEv(donep *<-chan struct{}) error {
	now := l.i.clock.Now()
	if l.beatAt.IsZero() {
		l.beatAt = now.Add(heartbeatEvery)
	}
	at := l.m.Next()
	if at.IsZero() || l.beatAt.Before(at) {
		at = l.beatAt
	}
	err := l.ev.arm(at, now)
	var readable, kicked bool
	if err == nil {
		readable, kicked, _, err = l.ev.wait(!l.mailMore)
	}
	l.resumed()
	if err != nil {
		// The loop cannot wait there: close the socket, which the
		// heartbeat re-opens with a reader goroutine.
		l.log.Error("VRRP event loop failed: waiting on channels from now on", "err", err)
		l.sock.unwatch(l)
		l.i.ev.Store(nil)
		l.ev.close()
		l.ev = nil
		return l.sock.failed(l, sockErr{l.sock.gen, err})
	}
	if readable {
		// One datagram per wake: the wait that follows looks at the
		// socket again before it blocks, so a lone advert costs one
		// recvmsg, not a second that finds nothing.
		if err := l.readSock(1); err != nil {
			return err
		}
	}
	if kicked || l.mailMore {
		l.mailMore = l.takeMail(donep)
	}
	now = l.i.clock.Now()
	if next := l.m.Next(); !next.IsZero() && !now.Before(next) {
		// Adverts already queued count before a timer (a master's
		// advert may be waiting behind junk), but a master's own
		// advert timer need not wait for them.
		if readable && l.sock.fast && l.m.State != StateMaster {
			if err := l.readSock(maxReadsPerWake); err != nil {
				return err
			}
		}
		if next := l.m.Next(); !next.IsZero() && !now.Before(next) {
			l.step(Input{Kind: EvTimer})
		}
	}
	if !now.Before(l.beatAt) {
		l.beatAt = now.Add(heartbeatEvery)
		l.tick()
	}
	return nil
}

// maxReadsPerWake bounds the datagrams read before a deadline, so that a
// flood does not keep the loop from its mailbox and deadlines.
const maxReadsPerWake = 256

// readSock handles up to most datagrams queued on the socket.
func (l *loop) readSock(most int) error {
	pc := l.sock.conn.(pollConn)
	gen := l.sock.gen
	for range most {
		d, ok, err := pc.readNow(l.sock.buf)
		if err != nil {
			return l.sock.failed(l, sockErr{gen, err})
		}
		if !ok {
			return nil
		}
		l.receive(d)
		if !l.sock.fast || l.sock.gen != gen {
			return nil
		}
	}
	return nil
}

// takeMail handles one input queued by another goroutine (which then
// kicked the event loop), and reports whether it took one: there may be
// more, and the next wait only looks.
func (l *loop) takeMail(donep *<-chan struct{}) bool {
	select {
	case <-*donep:
		*donep = nil
		l.step(Input{Kind: EvShutdown})
	case f := <-l.i.cmds:
		f(l)
	case <-l.i.wake:
		l.groupPoke()
	case ls := <-l.linkCh:
		l.linkChanged(ls)
	case <-l.addrCh:
		l.syncVIPs("address change")
	default:
		return false
	}
	return true
}

// resumed runs first in every iteration: if the loop stood still for
// longer than its timers allow, or the dead-man switch released the VIPs
// meanwhile, the machine hears of it before anything else (EvStall).
func (l *loop) resumed() {
	released := l.i.takeReleased()
	gap := l.i.clock.Now().Sub(l.lastRun)
	if !released && !IsStall(l.params(), gap) {
		return
	}
	l.log.Warn("VRRP loop resumed after a stall", "stalled_for", gap.Round(time.Millisecond), "vips_released", released, "state", l.m.State.String())
	if released {
		l.held = nil
	}
	l.step(Input{Kind: EvStall, Stall: gap, Released: released})
	l.lastRun = l.i.clock.Now()
}

// tick is the heartbeat's work: retry the socket, re-read the kernel.
func (l *loop) tick() {
	if l.sock.conn == nil {
		l.sock.open(l)
		l.reportFault()
		l.step(Input{Kind: EvCheck})
	}
	if !l.i.clock.Now().Before(l.nextVIP) {
		l.syncVIPs("periodic check")
	}
}

// armTimer arms the machine's next deadline on the loop's one timer,
// re-armed in place (no new timer per advert).
func (l *loop) armTimer() {
	next := l.m.Next()
	if next.Equal(l.timerT) && (l.timerC != nil || next.IsZero()) {
		return
	}
	l.timerT = next
	if next.IsZero() {
		if l.timer != nil {
			l.timer.Stop()
		}
		l.timerC = nil
		return
	}
	d := next.Sub(l.i.clock.Now())
	if l.timer == nil {
		l.timer = l.i.clock.NewTimer(d)
	} else {
		l.timer.Reset(d) // drops a fired, unread value (Go 1.23 timers; the fake drains)
	}
	l.timerC = l.timer.C()
}

// ownFault returns why the instance itself cannot work ("" when it can):
// no socket, its interface down (unless DontTrackPrimary), or a tracked
// interface with weight 0 down.
func (l *loop) ownFault() string {
	if ls, ok := l.links[l.cfg.Interface]; ok && !ls.Up && !l.cfg.DontTrackPrimary {
		return linkDown(ls, "interface")
	}
	if l.sock.conn == nil {
		return l.sock.why
	}
	for _, t := range l.cfg.Track {
		if ls, ok := l.links[t.Name]; ok && !ls.Up && t.Weight == 0 {
			return linkDown(ls, "tracked interface")
		}
	}
	return l.i.trackFaultReason()
}

func linkDown(ls LinkState, what string) string {
	if ls.Gone {
		return fmt.Sprintf("%s %s does not exist", what, ls.Name)
	}
	return fmt.Sprintf("%s %s is down", what, ls.Name)
}

// reportFault tells the sync group about our own fault, when it changed.
func (l *loop) reportFault() {
	f := l.ownFault() != ""
	if g := l.i.group.Load(); g != nil && f != l.faulted {
		g.setFault(l.i, f)
	}
	l.faulted = f
}

// params computes the state machine's inputs from config and conditions.
func (l *loop) params() Params {
	l.i.mu.Lock()
	delta := l.i.delta
	l.i.mu.Unlock()
	why := l.ownFault()
	if why == "" && l.i.groupFault.Load() {
		why = "another member of the sync group is in FAULT"
	}
	for _, t := range l.cfg.Track {
		if ls, ok := l.links[t.Name]; ok && !ls.Up && t.Weight != 0 {
			delta -= t.Weight
		}
	}
	prio := int(l.cfg.Priority)
	if delta != 0 {
		prio = min(max(prio+delta, 1), 254)
	}
	return Params{
		Version: l.cfg.Version, Priority: uint8(prio), AdvertInterval: l.cfg.AdvertInterval,
		Preempt: l.cfg.Preempt, PreemptDelay: l.cfg.PreemptDelay, Local: l.local,
		Fault: why != "", FaultReason: why, YieldTimeout: l.cfg.YieldTimeout,
	}
}

// step feeds the state machine and performs what it asks.
func (l *loop) step(ev Input) {
	now := l.i.clock.Now()
	p := l.params()
	old := l.m.State
	if old == StateInvalid {
		l.m.State, old = StateInit, StateInit
	}
	m, acts, why := Step(l.m, p, ev, now)
	l.m = m
	vipsChanged := false
	for _, a := range acts {
		l.act(a, p)
		vipsChanged = vipsChanged || a.Kind == ActAddVIPs || a.Kind == ActRemoveVIPs
	}
	if m.State != old {
		l.transition(old, m.State, why, now)
	}
	if len(l.waitHO) > 0 && (m.State != StateMaster || !m.Leaving()) {
		var err error
		switch m.State {
		case StateMaster:
			err = errors.New("handover aborted: no backup took over within Master_Down_Interval and a second")
		case StateInit:
			err = errors.New("handover interrupted by shutdown")
		}
		l.handoverDone(err, m)
	}
	if vipsChanged {
		l.syncVIPs("")
	}
	l.publish(p)
}

func (l *loop) handover(res chan error) {
	if l.m.State != StateMaster || l.m.Leaving() {
		l.log.Info("handover requested: not master here", "state", l.m.State.String(), "leaving", l.m.Leaving(), "waiters", len(l.waitHO))
		res <- ErrNotMaster
		return
	}
	l.waitHO = append(l.waitHO, res)
	l.log.Info("handover requested: advertising priority 0 until a new master is heard",
		"waiters", len(l.waitHO), "give_up_after", leaveWait(l.params(), leaveHandover))
	l.step(Input{Kind: EvHandover})
}

// handoverDone answers every waiting Handover with err (nil: a new master
// took over) and logs how the handover ended.
func (l *loop) handoverDone(err error, m Machine) {
	if err != nil {
		l.log.Warn("handover ended without a new master", "err", err, "state", m.State.String(), "waiters", len(l.waitHO))
	} else {
		l.log.Info("handover complete", "state", m.State.String(), "new_master", m.MasterAddr.String(), "yielding", m.Yield, "waiters", len(l.waitHO))
	}
	for _, c := range l.waitHO {
		c <- err
	}
	l.waitHO = nil
}

func (l *loop) transition(from, to State, why string, now time.Time) {
	e := Event{Instance: l.cfg.Name, VRID: l.cfg.VRID, From: from, To: to, Reason: why, At: now}
	l.i.events.push(e)
	level := slog.LevelInfo
	if to == StateFault {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, "VRRP state transition", "from", from.String(), "state", to.String(), "reason", why)
	l.i.mu.Lock()
	l.i.status.LastTransition = e
	l.i.mu.Unlock()
	var argv []string
	switch to {
	case StateMaster:
		argv = l.cfg.Notify.Master
	case StateBackup:
		argv = l.cfg.Notify.Backup
	case StateFault:
		argv = l.cfg.Notify.Fault
	}
	l.notify.enqueue(argv, l.env(from, to, why))
	l.notifyAll(from, to, why) // notifyall.go
	if g := l.i.group.Load(); g != nil {
		g.changed(l.i, from, to, l.notify)
	}
}

func (l *loop) publish(p Params) {
	l.i.mu.Lock()
	defer l.i.mu.Unlock()
	s := &l.i.status
	s.State, s.Priority, s.EffectivePriority = l.m.State, l.cfg.Priority, p.Priority
	s.MasterAddr, s.MasterAdverInterval, s.Yielding = l.m.MasterAddr, l.m.MasterAdverInterval, l.m.Yield
	s.YieldingSince, s.YieldingUntil = l.m.YieldSince, l.m.YieldUntil()
	s.FaultReason = ""
	if l.m.State == StateFault {
		s.FaultReason = p.FaultReason
	}
	s.LocalAddr = l.local
}

func prefixes(dst []netip.Prefix, as []vip.Address) []netip.Prefix {
	for _, a := range as {
		dst = append(dst, a.Prefix)
	}
	return dst
}

// receive validates a datagram and feeds valid adverts to the machine.
func (l *loop) receive(d Datagram) {
	p, reason, msg := l.val.check(d)
	if reason == dropSibling {
		return
	}
	if reason != DropNone {
		l.countDrop(reason, d, msg)
		return
	}
	l.i.mu.Lock()
	l.i.status.Received++
	l.i.mu.Unlock()
	if len(l.cfg.UnicastPeers) == 0 && !l.known[d.Src] && len(l.known) < 1024 {
		l.known[d.Src] = true
		l.log.Info("advert from a router not seen before", "sender", d.Src.String(), "priority", p.Priority, "state", l.m.State.String())
	}
	l.checkVIPList(d.Src, p)
	was := l.m
	l.step(Input{Kind: EvAdvert, Advert: Advert{Src: d.Src, Priority: p.Priority, Interval: p.AdvertInterval}})
	if p.Priority == 0 && was.State == StateBackup && l.m.State == StateBackup {
		l.log.Info("master leaving (priority 0)", "sender", d.Src.String(), "take_over_in", l.m.DownAt.Sub(l.i.clock.Now()).Round(time.Millisecond),
			"was_due_in", was.DownAt.Sub(l.i.clock.Now()).Round(time.Millisecond))
	}
}

// checkVIPList notes a peer whose address list differs from ours: logged
// once per peer and list, counted, shown in status; the advert still
// counts for the election.
func (l *loop) checkVIPList(src netip.Addr, p Packet) {
	same, theirs := l.val.sameVIPs(p)
	was, listed := l.mismatch[src]
	switch {
	case same && listed:
		delete(l.mismatch, src)
		l.log.Info("peer advertises our VIP list again", "sender", src.String())
	case same:
		return
	case !listed && len(l.mismatch) >= 1024:
	case !slices.Equal(was, theirs):
		l.mismatch[src] = slices.Clone(theirs) // theirs is the validator's buffer
		l.log.Warn("peer advertises another VIP list; electing on its adverts anyway (RFC 5798 §7.1): a rolling edit, or a configuration mismatch",
			"sender", src.String(), "theirs", fmt.Sprint(theirs), "ours", fmt.Sprint(l.val.addrs))
	}
	l.i.mu.Lock()
	defer l.i.mu.Unlock()
	if !same {
		l.i.status.VIPMismatchAdverts++
	}
	s := l.i.status.PeerVIPMismatch[:0]
	for peer, vips := range l.mismatch {
		s = append(s, PeerMismatch{Peer: peer, VIPs: vips})
	}
	slices.SortFunc(s, func(a, b PeerMismatch) int { return a.Peer.Compare(b.Peer) })
	l.i.status.PeerVIPMismatch = s
}

func (l *loop) countDrop(r DropReason, d Datagram, msg string) {
	l.i.mu.Lock()
	if l.i.status.Drops == nil {
		l.i.status.Drops = map[string]uint64{}
	}
	l.i.status.Drops[r.String()]++
	l.i.mu.Unlock()
	loud := r == DropAuth || r == DropInterval || r == DropNotPeer
	now := l.i.clock.Now()
	if loud && (l.warned[r].IsZero() || now.Sub(l.warned[r]) >= 10*time.Second) {
		l.warned[r] = now
		l.log.Warn("dropping advert: misconfiguration?", "reason", r.String(), "sender", d.Src.String(), "detail", msg)
		return
	}
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug("dropping advert", "reason", r.String(), "sender", d.Src.String(), "detail", msg)
	}
}

func (l *loop) validator(cfg Config) validator {
	v := newValidator(cfg, l.local)
	v.siblings = l.i.siblingVRIDs()
	l.sock.filter(l, cfg.VRID, v.siblings) // sock.go
	return v
}

// update applies a reloaded config in place.
func (l *loop) update(cfg Config) {
	old := l.cfg
	l.cfg = cfg
	l.i.mu.Lock()
	l.i.cfg = cfg
	l.i.mu.Unlock()
	l.val = l.validator(cfg)
	if l.m.State == StateMaster {
		l.reconcileVIPs(old, cfg)
	}
	if !sameTrack(old.Track, cfg.Track) {
		l.stopWatch()
		l.startWatch(context.Background())
	}
	l.reportFault()
	l.step(Input{Kind: EvCheck})
	l.syncVIPs("")
}

func sameTrack(a, b []TrackInterface) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (l *loop) linkChanged(ls LinkState) {
	if was, seen := l.links[ls.Name]; seen && was == ls {
		return
	}
	_, seen := l.links[ls.Name]
	l.links[ls.Name] = ls
	if seen || !ls.Up {
		l.log.Info("interface changed", "link", ls.Name, "up", ls.Up, "exists", !ls.Gone)
	}
	if ls.Name == l.cfg.Interface && l.sock.inj == nil {
		switch {
		case ls.Gone:
			l.sock.lost(l, fmt.Sprintf("interface %s does not exist", ls.Name))
		case ls.Index != 0 && l.sock.index != 0 && ls.Index != l.sock.index:
			// Deleted and created again: the old socket's membership
			// and interface index are stale.
			l.sock.lost(l, fmt.Sprintf("interface %s was re-created", ls.Name))
			l.sock.open(l)
		case l.sock.conn == nil && ls.Up:
			l.sock.open(l)
		}
	}
	l.reportFault()
	l.step(Input{Kind: EvCheck})
}

func (l *loop) groupPoke() {
	if g := l.i.group.Load(); g != nil && g.fault(l.i) != l.faulted {
		g.setFault(l.i, l.faulted)
	}
	if l.i.resume.Swap(false) {
		if l.m.Yield {
			l.log.Info("yield ended: a sync group member became master", "state", l.m.State.String())
		}
		l.step(Input{Kind: EvResume})
	}
	if l.i.stepDown.Swap(false) {
		l.step(Input{Kind: EvStepDown})
	}
	l.step(Input{Kind: EvCheck})
}
