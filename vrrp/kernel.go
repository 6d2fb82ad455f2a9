package vrrp

import (
	"net/netip"
	"slices"

	"github.com/havsd/havsd/vrrp/vip"
)

// vipPlan is what reconciling an instance's VIPs with the kernel does.
type vipPlan struct {
	Add      []vip.Address // wanted, absent from the kernel
	Remove   []vip.Address // present in the kernel, not wanted (the kernel's prefix)
	Announce bool          // gratuitous ARP / NA for the added ones
}

// planVIPs compares the VIPs an instance wants (all of them as MASTER,
// none otherwise) with those of its VIPs the kernel has. Addresses match by
// device and address whatever their prefix length, so a VIP added by hand
// as /32 counts as held.
func planVIPs(want, have []vip.Address) vipPlan {
	var p vipPlan
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h vip.Address) bool { return sameVIP(h, w) }) {
			p.Add = append(p.Add, w)
		}
	}
	for _, h := range have {
		if !slices.ContainsFunc(want, func(w vip.Address) bool { return sameVIP(h, w) }) {
			p.Remove = append(p.Remove, h)
		}
	}
	p.Announce = len(p.Add) > 0
	return p
}

func sameVIP(a, b vip.Address) bool { return a.Dev == b.Dev && a.Prefix.Addr() == b.Prefix.Addr() }

// vipView is an instance's VIPs as the kernel has them.
type vipView struct {
	want, have, missing, unexpected []vip.Address
}

// kernelVIPs reads which of the configured VIPs the kernel has.
func (l *loop) kernelVIPs(cfgd []vip.Address) ([]vip.Address, error) {
	byDev := map[string][]netip.Prefix{}
	var have []vip.Address
	for _, a := range cfgd {
		ps, ok := byDev[a.Dev]
		if !ok {
			var err error
			if ps, err = l.i.opts.VIPs.List(a.Dev); err != nil {
				return nil, err
			}
			byDev[a.Dev] = ps
		}
		for _, p := range ps {
			if p.Addr().Unmap() == a.Prefix.Addr() {
				have = append(have, vip.Address{Dev: a.Dev, Prefix: p})
				break
			}
		}
	}
	return have, nil
}

// syncVIPs reads the kernel's addresses and repairs drift: a master puts
// back a VIP that vanished and announces it, anyone else removes one of
// its VIPs that it should not hold. why is "" right after the loop's own
// VIP change (a repair then means that change failed).
func (l *loop) syncVIPs(why string) {
	l.nextVIP = l.i.clock.Now().Add(vipCheckEvery)
	cfgd := vipAddresses(l.cfg)
	var want []vip.Address
	if l.m.State == StateMaster {
		want = cfgd
	}
	have, err := l.kernelVIPs(cfgd)
	if err != nil {
		l.log.Warn("reading the kernel's addresses", "err", err)
		return
	}
	p := planVIPs(want, have)
	if len(p.Add)+len(p.Remove) > 0 {
		have = l.repair(p, have, why)
	}
	// Whatever failed to apply stays visible as a difference.
	l.kernel = vipView{want: want, have: have}
	fin := planVIPs(want, have)
	l.kernel.missing, l.kernel.unexpected = fin.Add, fin.Remove
	l.publishVIPs()
}

// repair applies a plan and returns the kernel's VIPs after it.
func (l *loop) repair(p vipPlan, have []vip.Address, why string) []vip.Address {
	if why == "" {
		why = "after a VIP change"
	}
	l.i.vipMu.Lock()
	released := l.i.released
	l.i.vipMu.Unlock()
	for _, a := range p.Remove {
		l.log.Warn("removing a VIP the kernel has but this instance should not hold", "vip", a.Prefix.String(), "dev", a.Dev, "state", l.m.State.String(), "found_by", why)
		if err := l.i.opts.VIPs.Remove(a); err != nil {
			l.log.Error("removing VIP", "vip", a.Prefix.String(), "err", err)
			continue
		}
		have = slices.DeleteFunc(have, func(h vip.Address) bool { return sameVIP(h, a) })
	}
	if released {
		return have // the loop re-enters the election first
	}
	var added []vip.Address
	for _, a := range p.Add {
		l.log.Warn("VIP missing from the kernel while MASTER: adding it back", "vip", a.Prefix.String(), "dev", a.Dev, "found_by", why)
		if err := l.i.opts.VIPs.Add(a); err != nil {
			l.log.Error("adding VIP", "vip", a.Prefix.String(), "err", err)
			continue
		}
		added = append(added, a)
		if !slices.Contains(l.held, a) {
			l.held = append(l.held, a)
		}
	}
	have = append(have, added...)
	if p.Announce && len(added) > 0 {
		b := l.burst()
		b.RepeatDelay, b.RepeatCount, b.Refresh = 0, 0, 0
		l.oneBurstOf(b, added)
	}
	return have
}

func (l *loop) publishVIPs() {
	l.i.mu.Lock()
	defer l.i.mu.Unlock()
	s := &l.i.status
	s.VIPs = prefixes(s.VIPs[:0], l.kernel.have)
	s.WantedVIPs = prefixes(s.WantedVIPs[:0], l.kernel.want)
	s.MissingVIPs = prefixes(s.MissingVIPs[:0], l.kernel.missing)
	s.UnexpectedVIPs = prefixes(s.UnexpectedVIPs[:0], l.kernel.unexpected)
}
