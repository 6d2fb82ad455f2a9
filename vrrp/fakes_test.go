package vrrp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"

	"github.com/havsd/havsd/internal/clock"
	"github.com/havsd/havsd/vrrp/vip"
)

func newFakeClock() *clock.Fake { return clock.NewFake(t0) }

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
	kick chan struct{} // drift signals the AddrWatcher side
}

// WatchAddrs implements AddrWatcher: drift is signalled like a netlink
// address notification.
func (f *fakeVIPs) WatchAddrs(ctx context.Context, kick chan<- struct{}) error {
	for {
		select {
		case <-f.kick:
			select {
			case kick <- struct{}{}:
			default:
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// List implements VIPManager: the held prefixes (on every device).
func (f *fakeVIPs) List(dev string) ([]netip.Prefix, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []netip.Prefix
	for p := range f.held {
		out = append(out, p)
	}
	return out, nil
}

// drift changes the "kernel" behind the instance's back, as `ip addr`
// would.
func (f *fakeVIPs) drift(p netip.Prefix, present bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if present {
		f.held[p] = true
	} else {
		delete(f.held, p)
	}
	select {
	case f.kick <- struct{}{}:
	default:
	}
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
	return &fakeVIPs{name: name, log: log, held: map[netip.Prefix]bool{}, kick: make(chan struct{}, 1)}
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

// noAddrs is an AddrWatcher that never signals: drift is found by the
// periodic re-read.
type noAddrs struct{}

func (noAddrs) WatchAddrs(ctx context.Context, kick chan<- struct{}) error {
	<-ctx.Done()
	return nil
}
