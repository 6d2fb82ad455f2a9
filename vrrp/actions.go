package vrrp

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/havsd/havsd/internal/clock"
	"github.com/havsd/havsd/vrrp/vip"
)

// act performs one action of the state machine.
func (l *loop) act(a Action, p Params) {
	switch a.Kind {
	case ActSend:
		l.send(a.Priority, netip.Addr{})
	case ActNotifyWinner:
		l.send(0, a.Dst)
	case ActAddVIPs:
		l.addVIPs(vipAddresses(l.cfg))
		// The first announcement is synchronous, before the advert that
		// makes a leaving master drop the VIPs; the rest of the burst
		// follows (count = N sends N in all, 0 none).
		b := l.burst()
		if b.Count > 0 {
			l.announceNow()
			b.Sent = 1
		}
		l.startBurst(b)
	case ActRemoveVIPs:
		l.removeVIPs()
	case ActAnnounce:
		b := l.burst()
		b.RepeatDelay, b.RepeatCount, b.Refresh = 0, 0, 0
		l.oneBurst(b)
	}
}

func (l *loop) advert(prio uint8) Packet {
	p := Packet{
		Version: uint8(l.cfg.Version), Type: TypeAdvertisement, VRID: l.cfg.VRID, Priority: prio,
		AdvertInterval: l.cfg.AdvertInterval, Addresses: l.val.addrs, // advertAddrs(l.cfg), kept with the config
	}
	if l.cfg.Version == 2 && l.cfg.AuthPass != "" {
		p.AuthType = AuthSimple
		copy(p.AuthData[:], l.cfg.AuthPass)
	}
	return p
}

// send sends an advert to the group or to every unicast peer, or only to
// the address to if valid.
func (l *loop) send(prio uint8, to netip.Addr) {
	dsts := l.cfg.UnicastPeers
	if to.IsValid() {
		dsts = []netip.Addr{to}
	}
	if len(dsts) == 0 {
		dsts = []netip.Addr{MulticastIPv4}
		if l.cfg.IPv6 {
			dsts = []netip.Addr{MulticastIPv6}
		}
	}
	if l.sock.conn == nil {
		return // FAULT: no socket
	}
	p := l.advert(prio)
	for _, dst := range dsts {
		b, err := p.sealInto(l.sendBuf, l.local, dst)
		if err == nil {
			l.sendBuf = b
			err = l.sock.conn.WriteTo(b, dst)
		}
		if err != nil {
			l.log.Warn("sending advert", "err", err)
			continue
		}
		l.i.mu.Lock()
		l.i.status.Sent++
		l.i.mu.Unlock()
	}
}

func (l *loop) addVIPs(as []vip.Address) {
	// The dead-man switch may have released the VIPs since this iteration
	// began: then the loop re-enters the election before adding any.
	l.i.vipMu.Lock()
	defer l.i.vipMu.Unlock()
	if l.i.released {
		return
	}
	for _, a := range as {
		if err := l.i.opts.VIPs.Add(a); err != nil {
			l.log.Error("adding VIP", "vip", a.Prefix.String(), "err", err)
			continue
		}
		if !slices.Contains(l.held, a) {
			l.held = append(l.held, a)
		}
	}
}

func (l *loop) removeVIPs() {
	if l.stopB != nil {
		l.stopB()
		l.stopB = nil
	}
	for _, a := range l.held {
		if err := l.i.opts.VIPs.Remove(a); err != nil {
			l.log.Error("removing VIP", "vip", a.Prefix.String(), "err", err)
		}
	}
	l.held = nil
}

// reconcileVIPs changes only the VIPs a reload added or removed.
func (l *loop) reconcileVIPs(old, cfg Config) {
	want := vipAddresses(cfg)
	var gone []vip.Address
	for _, a := range vipAddresses(old) {
		if !slices.Contains(want, a) {
			gone = append(gone, a)
		}
	}
	for _, a := range gone {
		if err := l.i.opts.VIPs.Remove(a); err != nil {
			l.log.Error("removing VIP", "vip", a.Prefix.String(), "err", err)
		}
		l.held = slices.DeleteFunc(l.held, func(h vip.Address) bool { return h == a })
	}
	var added []vip.Address
	for _, a := range want {
		if !slices.Contains(l.held, a) {
			added = append(added, a)
		}
	}
	if len(added) > 0 {
		l.addVIPs(added)
		b := l.burst()
		b.Refresh = 0
		l.oneBurstOf(b, added)
	}
}

// burst converts the GARP settings as they are: all zero sends none (the
// configuration fills in keepalived's defaults).
func (l *loop) burst() vip.Burst {
	g := l.cfg.GARP
	return vip.Burst{Count: g.Count, Interval: g.Interval, RepeatDelay: g.RepeatDelay, RepeatCount: g.RepeatCount, Refresh: g.Refresh}
}

func (l *loop) announceNow() {
	byDev := map[string][]netip.Addr{}
	for _, a := range l.held {
		byDev[a.Dev] = append(byDev[a.Dev], a.Prefix.Addr())
	}
	for dev, addrs := range byDev {
		if err := l.i.opts.VIPs.Announce(dev, addrs); err != nil {
			l.log.Warn("announcing VIPs", "err", err)
		}
	}
}

// startBurst replaces the master's announcement schedule.
func (l *loop) startBurst(b vip.Burst) {
	if l.stopB != nil {
		l.stopB()
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.stopB = cancel
	l.runBurst(ctx, b, l.held)
}

// oneBurst sends one extra burst for all held VIPs (split-brain heal); it
// stops with the master's schedule.
func (l *loop) oneBurst(b vip.Burst) { l.oneBurstOf(b, l.held) }

func (l *loop) oneBurstOf(b vip.Burst, as []vip.Address) {
	if l.stopB == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	prev := l.stopB
	l.stopB = func() { prev(); cancel() }
	l.runBurst(ctx, b, as)
}

func (l *loop) runBurst(ctx context.Context, b vip.Burst, as []vip.Address) {
	byDev := map[string][]netip.Addr{}
	var devs []string
	for _, a := range as {
		if _, ok := byDev[a.Dev]; !ok {
			devs = append(devs, a.Dev)
		}
		byDev[a.Dev] = append(byDev[a.Dev], a.Prefix.Addr())
	}
	mgr, clk, log := l.i.opts.VIPs, l.i.clock, l.log
	sleep := func(ctx context.Context, d time.Duration) bool { return clock.Sleep(ctx, clk, d) == nil }
	announce := func() error {
		var first error
		for _, dev := range devs {
			if err := mgr.Announce(dev, byDev[dev]); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	l.bursts.Add(1)
	go func() {
		defer l.bursts.Done()
		b.Run(ctx, sleep, announce, func(err error) { log.Warn("announcing VIPs", "err", err) })
	}()
}

// env is the environment of notify commands.
func (l *loop) env(from, to State, why string) []string {
	return []string{
		"HAVSD_INSTANCE=" + l.cfg.Name,
		fmt.Sprintf("HAVSD_VRID=%d", l.cfg.VRID),
		"HAVSD_FROM=" + from.String(),
		"HAVSD_STATE=" + to.String(),
		"HAVSD_REASON=" + why,
	}
}
