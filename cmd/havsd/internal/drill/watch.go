package drill

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ARPSeen is a gratuitous ARP for the VIP seen at the client.
type ARPSeen struct {
	At  time.Time
	MAC net.HardwareAddr
}

// GARPWatch records gratuitous ARPs (sender IP = target IP = VIP) arriving
// on the client's interface, through a packet socket.
type GARPWatch struct {
	vip  netip.Addr
	conn *packet.Conn

	mu   sync.Mutex
	seen []ARPSeen
}

// WatchGARP opens a packet socket for ARP on dev inside v's namespace.
func WatchGARP(v *Vantage, dev string, vip netip.Addr) (*GARPWatch, error) {
	w := &GARPWatch{vip: vip}
	err := v.Do(func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		w.conn, err = packet.Listen(ifi, packet.Raw, unix.ETH_P_ARP, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("watching ARP on %s: %w", dev, err)
	}
	go w.read()
	return w, nil
}

func (w *GARPWatch) read() {
	b := make([]byte, 1500)
	for {
		n, _, err := w.conn.ReadFrom(b)
		if err != nil {
			return
		}
		at := time.Now()
		var f ethernet.Frame
		if err := f.UnmarshalBinary(b[:n]); err != nil || f.EtherType != ethernet.EtherTypeARP {
			continue
		}
		var p arp.Packet
		if err := p.UnmarshalBinary(f.Payload); err != nil {
			continue
		}
		if p.SenderIP != w.vip || p.TargetIP != w.vip {
			continue
		}
		w.mu.Lock()
		w.seen = append(w.seen, ARPSeen{At: at, MAC: p.SenderHardwareAddr})
		w.mu.Unlock()
	}
}

// FirstAfter returns the first gratuitous ARP seen at or after t.
func (w *GARPWatch) FirstAfter(t time.Time) (ARPSeen, bool) {
	if w == nil {
		return ARPSeen{}, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.seen {
		if !s.At.Before(t) {
			return s, true
		}
	}
	return ARPSeen{}, false
}

// Close stops watching.
func (w *GARPWatch) Close() error {
	if w == nil {
		return nil
	}
	return w.conn.Close()
}

// VIPEvent is the VIP appearing on or leaving a node.
type VIPEvent struct {
	At    time.Time
	Node  string
	Added bool
}

// VIPWatch follows the VIP on a set of namespaces through netlink address
// notifications, so it knows who holds it and when it moved.
type VIPWatch struct {
	vip  netip.Addr
	done chan struct{}

	mu     sync.Mutex
	events []VIPEvent
	holds  map[string]bool
	errs   []error
}

// WatchVIP subscribes to address changes in each namespace; nodes maps a
// node name to its namespace name.
func WatchVIP(vip netip.Addr, nodes map[string]string) (*VIPWatch, error) {
	w := &VIPWatch{vip: vip, done: make(chan struct{}), holds: map[string]bool{}}
	for node, ns := range nodes {
		h, err := netns.GetFromName(ns)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("watching VIP in %s: %w", ns, err)
		}
		ch := make(chan netlink.AddrUpdate, 64)
		err = netlink.AddrSubscribeWithOptions(ch, w.done, netlink.AddrSubscribeOptions{
			Namespace:     &h,
			ListExisting:  true,
			ErrorCallback: func(err error) { w.mu.Lock(); w.errs = append(w.errs, err); w.mu.Unlock() },
		})
		h.Close()
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("watching VIP in %s: %w", ns, err)
		}
		go w.follow(node, ch)
	}
	return w, nil
}

func (w *VIPWatch) follow(node string, ch <-chan netlink.AddrUpdate) {
	for u := range ch {
		a, ok := netip.AddrFromSlice(u.LinkAddress.IP)
		if !ok || a.Unmap() != w.vip {
			continue
		}
		w.mu.Lock()
		if w.holds[node] != u.NewAddr {
			w.holds[node] = u.NewAddr
			w.events = append(w.events, VIPEvent{At: time.Now(), Node: node, Added: u.NewAddr})
		}
		w.mu.Unlock()
	}
}

// Holders returns the nodes that hold the VIP now.
func (w *VIPWatch) Holders() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for n, h := range w.holds {
		if h {
			out = append(out, n)
		}
	}
	return out
}

// MovedAfter returns the first time after t that the VIP was added on a node
// other than from.
func (w *VIPWatch) MovedAfter(t time.Time, from string) (VIPEvent, bool) {
	if w == nil {
		return VIPEvent{}, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.events {
		if e.Added && e.Node != from && !e.At.Before(t) {
			return e, true
		}
	}
	return VIPEvent{}, false
}

// Close stops the subscriptions.
func (w *VIPWatch) Close() {
	if w == nil {
		return
	}
	select {
	case <-w.done:
	default:
		close(w.done)
	}
}

// LastChange returns when the VIP last appeared on or left a node (zero if
// never seen).
func (w *VIPWatch) LastChange() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.events) == 0 {
		return time.Time{}
	}
	return w.events[len(w.events)-1].At
}
