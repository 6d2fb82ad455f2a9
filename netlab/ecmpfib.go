package netlab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func writeFile(path, text string) error {
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// FIBChange is the set of next hops of a route from a moment on.
type FIBChange struct {
	At       time.Time
	NextHops []netip.Addr // sorted; empty: no route
}

// FIBWatch follows the kernel's route to one prefix in a node (the
// router): netlink route notifications, each answered by re-reading the
// route, so every change is recorded with the time it was seen.
type FIBWatch struct {
	dst  netip.Prefix
	h    *netlink.Handle
	done chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	history []FIBChange
	changed chan struct{} // closed and replaced at every change
}

// WatchFIB starts following the route to dst in a node.
func (t *Topology) WatchFIB(node string, dst netip.Prefix) (*FIBWatch, error) {
	nsh, err := netns.GetFromName(t.NS(node))
	if err != nil {
		return nil, fmt.Errorf("watching routes in %s: %w", t.NS(node), err)
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		return nil, fmt.Errorf("watching routes in %s: %w", t.NS(node), err)
	}
	w := &FIBWatch{dst: dst, h: h, done: make(chan struct{}), changed: make(chan struct{})}
	ch := make(chan netlink.RouteUpdate, 64)
	if err := netlink.RouteSubscribeWithOptions(ch, w.done, netlink.RouteSubscribeOptions{Namespace: &nsh}); err != nil {
		h.Close()
		return nil, fmt.Errorf("watching routes in %s: %w", t.NS(node), err)
	}
	w.refresh()
	w.wg.Add(1)
	go w.run(ch)
	return w, nil
}

func (w *FIBWatch) run(ch <-chan netlink.RouteUpdate) {
	defer w.wg.Done()
	tick := time.NewTicker(200 * time.Millisecond) // a lost notification costs at most this
	defer tick.Stop()
	for {
		select {
		case <-w.done:
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
			w.refresh()
		case <-tick.C:
			w.refresh()
		}
	}
}

// refresh reads the route and records it if it changed.
func (w *FIBWatch) refresh() {
	nh := w.read()
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.history); n > 0 && slices.Equal(w.history[n-1].NextHops, nh) {
		return
	}
	w.history = append(w.history, FIBChange{At: now, NextHops: nh})
	close(w.changed)
	w.changed = make(chan struct{})
}

func (w *FIBWatch) read() []netip.Addr {
	ipnet := &net.IPNet{IP: w.dst.Addr().AsSlice(), Mask: net.CIDRMask(w.dst.Bits(), w.dst.Addr().BitLen())}
	rs, err := w.h.RouteListFiltered(unix.AF_INET, &netlink.Route{Dst: ipnet, Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_DST|netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, r := range rs {
		if r.Gw != nil {
			if a, ok := netip.AddrFromSlice(r.Gw); ok {
				out = append(out, a.Unmap())
			}
		}
		for _, p := range r.MultiPath {
			if a, ok := netip.AddrFromSlice(p.Gw); ok {
				out = append(out, a.Unmap())
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return slices.Compact(out)
}

// NextHops returns the route's next hops now.
func (w *FIBWatch) NextHops() []netip.Addr {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.history) == 0 {
		return nil
	}
	return slices.Clone(w.history[len(w.history)-1].NextHops)
}

// History returns every change seen since the watch started.
func (w *FIBWatch) History() []FIBChange {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.history)
}

// Wait waits up to timeout for cond to hold on the next hops, and returns
// when the change that made it hold was seen.
func (w *FIBWatch) Wait(timeout time.Duration, cond func([]netip.Addr) bool) (time.Time, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		var cur FIBChange
		if n := len(w.history); n > 0 {
			cur = w.history[n-1]
		}
		changed := w.changed
		w.mu.Unlock()
		if cond(cur.NextHops) {
			return cur.At, true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return time.Time{}, false
		}
	}
}

// Close stops the watch.
func (w *FIBWatch) Close() {
	if w == nil {
		return
	}
	close(w.done)
	w.wg.Wait()
	w.h.Close()
}

// Has reports whether a next hop is in the set.
func Has(nh []netip.Addr, a netip.Addr) bool { return slices.Contains(nh, a) }
