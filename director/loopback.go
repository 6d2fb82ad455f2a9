package director

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/havsd/havsd/lvs/sysctl"
	"github.com/havsd/havsd/vrrp"
	vipmgr "github.com/havsd/havsd/vrrp/vip"
)

// Loopback keeps the VIPs of the services announced by BGP on the loopback
// (LoopbackVIPs). Set never blocks; Run owns the addresses.
type Loopback interface {
	Run(ctx context.Context) error
	// Set replaces the wanted VIPs; the latest call wins.
	Set(vips []netip.Prefix)
	Status() LoopbackStatus
}

// addrOps is what LoopbackVIPs uses of vip.Manager.
type addrOps interface {
	Add(a vipmgr.Address) error
	Remove(a vipmgr.Address) error
	List(dev string) ([]netip.Prefix, error)
}

// arpSuppress are the sysctls that keep the director from answering ARP
// for addresses on its loopback, as an LVS-DR real server does: reply only
// for addresses on the interface asked (arp_ignore=1), announce only the
// best local address of that interface (arp_announce=2). The kernel uses
// the larger of "all" and the interface's value, so "all" covers every
// interface. IPv6 neighbour discovery answers only for the interface's own
// addresses already.
var arpSuppress = []sysctl.Need{
	{Key: "net.ipv4.conf.all.arp_announce", Want: "2", Why: "BGP VIPs on the loopback (ARP suppressed)"},
	{Key: "net.ipv4.conf.all.arp_ignore", Want: "1", Why: "BGP VIPs on the loopback (ARP suppressed)"},
}

// LoopbackVIPs puts the VIPs of BGP-announced services on the loopback and
// keeps them there, repairing drift as a VRRP instance repairs its own:
// netlink address events and a periodic re-read start a pass that reads the
// device and adds what is missing. It is the only code that adds or removes
// them; it removes a VIP when no service wants it any more, and all of them
// when Run returns. Addresses it never added are left alone.
type LoopbackVIPs struct {
	Dev      string // "lo"
	Interval time.Duration
	// SetSysctls allows writing the ARP sysctls; otherwise a wrong value
	// is reported only.
	SetSysctls  bool
	SysctlRoot  string // "" is /proc/sys
	addrs       addrOps
	watch       vrrp.AddrWatcher
	log         *slog.Logger
	kick        chan struct{}
	mu          sync.Mutex // guards the fields below
	want        []netip.Prefix
	owned       map[netip.Prefix]bool // added, or wanted, by this process
	held        []netip.Prefix
	missing     []netip.Prefix
	lastErr     string
	arp         []string
	arpReported map[string]bool
}

// NewLoopbackVIPs returns the loopback's VIP keeper over netlink. It does
// no I/O; interval is the period of the re-read (0: lvs.DefaultInterval).
func NewLoopbackVIPs(log *slog.Logger, interval time.Duration, setSysctls bool) *LoopbackVIPs {
	return newLoopbackVIPs(vipmgr.NewManager(log), vrrp.NetlinkWatcher{}, log, interval, setSysctls)
}

func newLoopbackVIPs(a addrOps, w vrrp.AddrWatcher, log *slog.Logger, interval time.Duration, setSysctls bool) *LoopbackVIPs {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LoopbackVIPs{Dev: "lo", Interval: interval, SetSysctls: setSysctls, addrs: a, watch: w,
		log: log.With("component", "loopback"), kick: make(chan struct{}, 1),
		owned: map[netip.Prefix]bool{}, arpReported: map[string]bool{}}
}

// Set replaces the wanted VIPs and asks Run for a pass.
func (l *LoopbackVIPs) Set(vips []netip.Prefix) {
	l.mu.Lock()
	l.want = slices.Clone(vips)
	for _, p := range vips {
		l.owned[p] = true
	}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Status reports the kernel's truth as last read.
func (l *LoopbackVIPs) Status() LoopbackStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LoopbackStatus{Device: l.Dev, Held: prefixStrings(l.held), Missing: prefixStrings(l.missing),
		Error: l.lastErr, ARP: slices.Clone(l.arp)}
}

// Run keeps the VIPs until ctx is done, then removes every VIP it owns.
func (l *LoopbackVIPs) Run(ctx context.Context) error {
	events := make(chan struct{}, 1)
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := l.watch.WatchAddrs(wctx, events); err != nil && wctx.Err() == nil {
			l.log.Error("watching addresses; loopback VIP drift is found by the periodic re-read only", "err", err)
		}
	})
	defer wg.Wait()
	defer stop()
	tick := time.NewTicker(l.Interval)
	defer tick.Stop()
	for {
		l.pass()
		select {
		case <-ctx.Done():
			l.removeAll()
			return nil
		case <-l.kick:
		case <-events:
		case <-tick.C:
		}
	}
}

// pass reads the device, adds the wanted VIPs it lacks and removes those
// owned but no longer wanted.
func (l *LoopbackVIPs) pass() {
	l.mu.Lock()
	want := slices.Clone(l.want)
	var drop []netip.Prefix
	for p := range l.owned {
		if !slices.Contains(want, p) {
			drop = append(drop, p)
		}
	}
	l.mu.Unlock()
	if len(want) == 0 && len(drop) == 0 {
		return
	}
	var errs []error
	if slices.ContainsFunc(want, func(p netip.Prefix) bool { return p.Addr().Is4() }) {
		l.checkARP()
	}
	have, err := l.addrs.List(l.Dev)
	if err != nil {
		l.record(nil, want, err)
		return
	}
	for _, p := range want {
		if !slices.Contains(have, p) {
			if err := l.addrs.Add(vipmgr.Address{Prefix: p, Dev: l.Dev}); err != nil {
				errs = append(errs, err)
				continue
			}
			l.log.Info("VIP added to the loopback", "vip", p.String())
			have = append(have, p)
		}
	}
	for _, p := range drop {
		if slices.Contains(have, p) {
			if err := l.addrs.Remove(vipmgr.Address{Prefix: p, Dev: l.Dev}); err != nil {
				errs = append(errs, err)
				continue
			}
			l.log.Info("VIP removed from the loopback: no service announces it any more", "vip", p.String())
			have = slices.DeleteFunc(have, func(h netip.Prefix) bool { return h == p })
		}
		l.mu.Lock()
		if !slices.Contains(l.want, p) {
			delete(l.owned, p)
		}
		l.mu.Unlock()
	}
	l.record(have, want, errors.Join(errs...))
}

// record keeps what the pass found for Status.
func (l *LoopbackVIPs) record(have, want []netip.Prefix, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held, l.missing = nil, nil
	for _, p := range want {
		if have != nil && slices.Contains(have, p) {
			l.held = append(l.held, p)
		} else {
			l.missing = append(l.missing, p)
		}
	}
	l.lastErr = ""
	if err != nil {
		l.lastErr = err.Error()
		l.log.Error("loopback VIPs", "err", err)
	}
}

// checkARP checks, and where allowed sets, the ARP sysctls; each finding
// that needs attention is logged once.
func (l *LoopbackVIPs) checkARP() {
	var lines []string
	for _, f := range sysctl.Check(l.SysctlRoot, arpSuppress, l.SetSysctls) {
		lines = append(lines, f.String())
		if f.OK() && !f.Changed {
			continue
		}
		if l.arpReported[f.String()] {
			continue
		}
		l.arpReported[f.String()] = true
		if f.OK() {
			l.log.Info("kernel setting", "finding", f.String())
		} else {
			l.log.Warn("kernel setting: the director may answer ARP for its BGP VIPs", "finding", f.String())
		}
	}
	l.mu.Lock()
	l.arp = lines
	l.mu.Unlock()
}

// removeAll removes every VIP this process owns, as havsd stops.
func (l *LoopbackVIPs) removeAll() {
	l.mu.Lock()
	owned := make([]netip.Prefix, 0, len(l.owned))
	for p := range l.owned {
		owned = append(owned, p)
	}
	l.mu.Unlock()
	slices.SortFunc(owned, netip.Prefix.Compare)
	for _, p := range owned {
		if err := l.addrs.Remove(vipmgr.Address{Prefix: p, Dev: l.Dev}); err != nil {
			l.log.Error("removing a VIP from the loopback as havsd stops", "vip", p.String(), "err", err)
			continue
		}
		l.log.Info("VIP removed from the loopback: havsd stops", "vip", p.String())
	}
}
