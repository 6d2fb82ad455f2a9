package vrrp

import (
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/havsd/havsd/vrrp/vip"
)

// fakeClock is a manual clock; Advance fires due timers in order.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clk     *fakeClock
	c       chan time.Time
	at      time.Time
	stopped bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clk: c, c: make(chan time.Time, 1), at: c.now.Add(d)}
	if d <= 0 {
		t.c <- c.now
		t.stopped = true
		return t
	}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock forward by d, firing due timers.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.stopped = true
			t.c <- c.now
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
}

// hub is a fake link: what one conn writes, the others read, with TTL 255.
type hub struct {
	mu    sync.Mutex
	conns []*hubConn
	cut   bool // deliver nothing (split brain)
}

type hubConn struct {
	h      *hub
	local  netip.Addr
	in     chan Datagram
	closed chan struct{}
	once   sync.Once
}

func (h *hub) conn(local netip.Addr) *hubConn {
	c := &hubConn{h: h, local: local, in: make(chan Datagram, 1024), closed: make(chan struct{})}
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()
	return c
}

func (h *hub) setCut(cut bool) {
	h.mu.Lock()
	h.cut = cut
	h.mu.Unlock()
}

func (c *hubConn) ReadFrom(b []byte) (Datagram, error) {
	select {
	case d := <-c.in:
		d.Data = d.Data[:copy(b, d.Data)]
		return d, nil
	case <-c.closed:
		return Datagram{}, errors.New("closed")
	}
}

func (c *hubConn) WriteTo(b []byte, dst netip.Addr) error {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	if c.h.cut {
		return nil
	}
	for _, o := range c.h.conns {
		if o != c && (dst.IsMulticast() || dst == o.local) {
			o.inject(Datagram{Data: slices.Clone(b), Src: c.local, Dst: dst, TTL: 255})
		}
	}
	return nil
}

func (c *hubConn) inject(d Datagram) {
	select {
	case c.in <- d:
	case <-c.closed:
	}
}

func (c *hubConn) LocalAddr() netip.Addr { return c.local }
func (c *hubConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// fakeVIPs records VIP operations in order, as one log shared by directors.
type fakeVIPs struct {
	name string
	log  *opLog
	mu   sync.Mutex
	held map[netip.Prefix]bool
	ann  int
}

type opLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *opLog) add(s string) {
	l.mu.Lock()
	l.ops = append(l.ops, s)
	l.mu.Unlock()
}

func (l *opLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ops)
}

func newFakeVIPs(name string, log *opLog) *fakeVIPs {
	return &fakeVIPs{name: name, log: log, held: map[netip.Prefix]bool{}}
}

func (f *fakeVIPs) Add(a vip.Address) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.held[a.Prefix] {
		f.held[a.Prefix] = true
		f.log.add(f.name + " add " + a.Prefix.String())
	}
	return nil
}

func (f *fakeVIPs) Remove(a vip.Address) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held[a.Prefix] {
		delete(f.held, a.Prefix)
		f.log.add(f.name + " remove " + a.Prefix.String())
	}
	return nil
}

func (f *fakeVIPs) Announce(dev string, addrs []netip.Addr) error {
	f.mu.Lock()
	f.ann++
	f.mu.Unlock()
	return nil
}

func (f *fakeVIPs) has(p netip.Prefix) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held[p]
}

func (f *fakeVIPs) announced() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ann
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
