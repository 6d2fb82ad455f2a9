package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/havsd/havsd/vrrp/vip"
)

// loop is the state owned by Run's goroutine.
type loop struct {
	i       *Instance
	log     *slog.Logger
	conn    Conn
	cfg     Config
	val     validator
	local   netip.Addr
	m       Machine
	held    []vip.Address
	bursts  sync.WaitGroup
	stopB   context.CancelFunc // cancels the running burst
	timer   Timer
	timerC  <-chan time.Time
	timerT  time.Time
	links   map[string]bool // tracked link → up
	watch   context.CancelFunc
	linkCh  chan LinkState
	waitHO  []chan error
	known   map[netip.Addr]bool
	warned  map[DropReason]time.Time
	faulted bool // own fault as last reported to the sync group
	notify  *notifier
}

// Run opens the socket (unless one was injected) and runs the instance
// until ctx is cancelled; then it stops gracefully: a master advertises
// priority 0 and keeps its VIPs until it hears the new master (at most
// Master_Down_Interval), then removes them, runs the stop notify command
// and returns nil. It returns an error if the socket fails, after giving
// up the VIPs.
func (i *Instance) Run(ctx context.Context) (err error) {
	i.mu.Lock()
	if i.running {
		i.mu.Unlock()
		return fmt.Errorf("vrrp instance %s: already running", i.cfg.Name)
	}
	cfg := i.cfg
	i.mu.Unlock()
	i.events.start.Do(func() { go i.events.forward() })

	conn := i.opts.Conn
	if conn == nil {
		if conn, err = Listen(cfg); err != nil {
			return fmt.Errorf("vrrp instance %s: %w", cfg.Name, err)
		}
	}
	l := &loop{
		i: i, log: i.log, conn: conn, cfg: cfg, local: conn.LocalAddr(),
		links: map[string]bool{}, linkCh: make(chan LinkState, 16),
		known: map[netip.Addr]bool{}, warned: map[DropReason]time.Time{},
		notify: newNotifier(i.log, i.opts.NotifyTimeout),
	}
	l.val = l.validator(cfg)
	for _, a := range vipAddresses(cfg) {
		if err := i.opts.VIPs.Remove(a); err != nil {
			i.log.Warn("removing stale VIP", "vip", a.Prefix.String(), "err", err)
		}
	}
	stopped := make(chan struct{})
	i.mu.Lock()
	i.running, i.stopped = true, stopped
	i.status.LocalAddr = l.local
	i.mu.Unlock()
	defer func() {
		i.mu.Lock()
		i.running = false
		i.mu.Unlock()
		close(stopped)
	}()
	go l.notify.run()
	defer l.notify.close()
	rx, rxErr, quit := make(chan Datagram, 256), make(chan error, 1), make(chan struct{})
	defer close(quit)
	go l.read(rx, rxErr, quit)
	defer conn.Close()
	l.startWatch(ctx)
	defer func() { l.watch() }()

	err = l.run(ctx, rx, rxErr)
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

func (l *loop) run(ctx context.Context, rx <-chan Datagram, rxErr <-chan error) error {
	done := ctx.Done()
	heartbeat := l.i.clock.NewTimer(time.Second)
	defer func() { heartbeat.Stop() }()
	l.step(Input{Kind: EvStartup})
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
		l.armTimer()
		select {
		case <-done:
			done = nil
			l.step(Input{Kind: EvShutdown})
		case d := <-rx:
			l.receive(d)
		case <-l.timerC:
			l.timerC, l.timerT = nil, time.Time{}
			// Adverts already queued count before a timer: under a
			// flood, the master's advert may be waiting behind junk.
			for n := len(rx); n > 0; n-- {
				l.receive(<-rx)
			}
			l.step(Input{Kind: EvTimer})
		case f := <-l.i.cmds:
			f(l)
		case <-l.i.wake:
			l.groupPoke()
		case ls := <-l.linkCh:
			l.linkChanged(ls)
		case <-heartbeat.C():
			heartbeat = l.i.clock.NewTimer(time.Second)
		case err := <-rxErr:
			return err
		}
		l.i.mu.Lock()
		l.i.status.Heartbeat = l.i.clock.Now()
		l.i.mu.Unlock()
	}
}

func (l *loop) read(rx chan<- Datagram, rxErr chan<- error, quit <-chan struct{}) {
	buf := make([]byte, 65536)
	for {
		d, err := l.conn.ReadFrom(buf)
		if err != nil {
			select {
			case rxErr <- err:
			case <-quit:
			}
			return
		}
		d.Data = append([]byte(nil), d.Data...)
		select {
		case rx <- d:
		case <-quit:
			return
		}
	}
}

func (l *loop) armTimer() {
	next := l.m.Next()
	if next.Equal(l.timerT) && (l.timerC != nil || next.IsZero()) {
		return
	}
	if l.timer != nil {
		l.timer.Stop()
		l.timer, l.timerC = nil, nil
	}
	l.timerT = next
	if next.IsZero() {
		return
	}
	l.timer = l.i.clock.NewTimer(next.Sub(l.i.clock.Now()))
	l.timerC = l.timer.C()
}

// ownFault reports whether a tracked interface with weight 0 is down.
func (l *loop) ownFault() bool {
	for _, t := range l.cfg.Track {
		if up, ok := l.links[t.Name]; ok && !up && t.Weight == 0 {
			return true
		}
	}
	return false
}

// reportFault tells the sync group about our own fault, when it changed.
func (l *loop) reportFault() {
	f := l.ownFault()
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
	fault := l.i.groupFault.Load()
	for _, t := range l.cfg.Track {
		if up, ok := l.links[t.Name]; ok && !up {
			if t.Weight == 0 {
				fault = true
			} else {
				delta -= t.Weight
			}
		}
	}
	prio := int(l.cfg.Priority)
	if delta != 0 {
		prio = min(max(prio+delta, 1), 254)
	}
	return Params{
		Version: l.cfg.Version, Priority: uint8(prio), AdvertInterval: l.cfg.AdvertInterval,
		Preempt: l.cfg.Preempt, PreemptDelay: l.cfg.PreemptDelay, Local: l.local, Fault: fault,
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
	for _, a := range acts {
		l.act(a, p)
	}
	if m.State != old {
		l.transition(old, m.State, why, now)
	}
	if len(l.waitHO) > 0 && (m.State != StateMaster || !m.Leaving()) {
		var err error
		switch m.State {
		case StateMaster:
			err = errors.New("handover aborted: no backup took over within Master_Down_Interval")
		case StateInit:
			err = errors.New("handover interrupted by shutdown")
		}
		for _, c := range l.waitHO {
			c <- err
		}
		l.waitHO = nil
	}
	l.publish(p)
}

func (l *loop) handover(res chan error) {
	if l.m.State != StateMaster || l.m.Leaving() {
		res <- ErrNotMaster
		return
	}
	l.waitHO = append(l.waitHO, res)
	l.step(Input{Kind: EvHandover})
}

func (l *loop) transition(from, to State, why string, now time.Time) {
	e := Event{Instance: l.cfg.Name, VRID: l.cfg.VRID, From: from, To: to, Reason: why, At: now}
	l.i.events.push(e)
	l.log.Info("VRRP state transition", "from", from.String(), "state", to.String(), "reason", why)
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
	s.VIPs = s.VIPs[:0]
	for _, a := range l.held {
		s.VIPs = append(s.VIPs, a.Prefix)
	}
}

// receive validates a datagram and feeds valid adverts to the machine.
func (l *loop) receive(d Datagram) {
	p, reason, msg := l.val.check(d)
	if reason == dropSibling {
		return
	}
	if reason != DropInvalid {
		l.countDrop(reason, d, msg)
		return
	}
	l.i.mu.Lock()
	l.i.status.Received++
	l.i.mu.Unlock()
	if len(l.cfg.UnicastPeers) == 0 && !l.known[d.Src] && len(l.known) < 1024 {
		l.known[d.Src] = true
		l.log.Warn("advert from a router not seen before", "sender", d.Src.String(), "priority", p.Priority, "state", l.m.State.String())
	}
	l.step(Input{Kind: EvAdvert, Advert: Advert{Src: d.Src, Priority: p.Priority, Interval: p.AdvertInterval}})
}

func (l *loop) countDrop(r DropReason, d Datagram, msg string) {
	l.i.mu.Lock()
	if l.i.status.Drops == nil {
		l.i.status.Drops = map[string]uint64{}
	}
	l.i.status.Drops[r.String()]++
	l.i.mu.Unlock()
	loud := r == DropAddrCount || r == DropAddrList || r == DropAuth || r == DropInterval || r == DropNotPeer
	now := l.i.clock.Now()
	if loud && now.Sub(l.warned[r]) >= 10*time.Second {
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
	v.siblings = l.i.opts.SiblingVRIDs
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
		l.watch()
		l.startWatch(context.Background())
	}
	l.reportFault()
	l.step(Input{Kind: EvCheck})
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
	if l.links[ls.Name] == ls.Up {
		if _, seen := l.links[ls.Name]; seen {
			return
		}
	}
	l.links[ls.Name] = ls.Up
	l.log.Info("tracked interface changed", "link", ls.Name, "up", ls.Up)
	l.reportFault()
	l.step(Input{Kind: EvCheck})
}

func (l *loop) groupPoke() {
	if g := l.i.group.Load(); g != nil && g.fault(l.i) != l.faulted {
		g.setFault(l.i, l.faulted)
	}
	if l.i.resume.Swap(false) {
		l.step(Input{Kind: EvResume})
	}
	if l.i.stepDown.Swap(false) {
		l.step(Input{Kind: EvStepDown})
	}
	l.step(Input{Kind: EvCheck})
}
