package vip

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Manager adds, removes and announces virtual addresses on this host.
type Manager struct {
	log *slog.Logger
}

// NewManager returns a Manager that logs through log (nil: slog.Default).
func NewManager(log *slog.Logger) *Manager {
	if log == nil {
		log = slog.Default()
	}
	return &Manager{log: log.With("component", "vip")}
}

func nlAddr(a Address) (netlink.Link, *netlink.Addr, error) {
	link, err := netlink.LinkByName(a.Dev)
	if err != nil {
		return nil, nil, fmt.Errorf("finding device %s: %w", a.Dev, err)
	}
	p := a.Prefix
	na := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if p.Addr().Is6() {
		// No duplicate address detection: the VIP must work at once.
		na.Flags = unix.IFA_F_NODAD
	}
	return link, na, nil
}

// Add adds the address; an address already present is not an error.
func (m *Manager) Add(a Address) error {
	link, na, err := nlAddr(a)
	if err != nil {
		return err
	}
	if err := netlink.AddrAdd(link, na); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("adding VIP %s on %s: %w", a.Prefix, a.Dev, err)
	}
	return nil
}

// Remove removes the address; an absent address is not an error.
func (m *Manager) Remove(a Address) error {
	link, na, err := nlAddr(a)
	if err != nil {
		return err
	}
	if err := netlink.AddrDel(link, na); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("removing VIP %s from %s: %w", a.Prefix, a.Dev, err)
	}
	return nil
}

// List returns the addresses on dev; none, without error, when dev does
// not exist.
func (m *Manager) List(dev string) ([]netip.Prefix, error) {
	link, err := netlink.LinkByName(dev)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, nil
		}
		return nil, fmt.Errorf("finding device %s: %w", dev, err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("listing addresses of %s: %w", dev, err)
	}
	out := make([]netip.Prefix, 0, len(addrs))
	for _, x := range addrs {
		ip, ok := netip.AddrFromSlice(x.IP)
		if !ok {
			continue
		}
		bits, _ := x.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), bits))
	}
	return out, nil
}

// Has reports whether the device holds the address (any prefix length).
func (m *Manager) Has(a Address) (bool, error) {
	link, err := netlink.LinkByName(a.Dev)
	if err != nil {
		return false, fmt.Errorf("finding device %s: %w", a.Dev, err)
	}
	family := netlink.FAMILY_V4
	if a.Prefix.Addr().Is6() {
		family = netlink.FAMILY_V6
	}
	addrs, err := netlink.AddrList(link, family)
	if err != nil {
		return false, fmt.Errorf("listing addresses of %s: %w", a.Dev, err)
	}
	for _, x := range addrs {
		if ip, ok := netip.AddrFromSlice(x.IP); ok && ip.Unmap() == a.Prefix.Addr() {
			return true, nil
		}
	}
	return false, nil
}

// RemoveStale removes those of the given addresses that are present, as a
// crashed predecessor may have left them, and returns the ones it removed.
func (m *Manager) RemoveStale(addrs []Address) ([]Address, error) {
	var removed []Address
	var errs []error
	for _, a := range addrs {
		ok, err := m.Has(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		if err := m.Remove(a); err != nil {
			errs = append(errs, err)
			continue
		}
		m.log.Warn("removed stale VIP", "vip", a.Prefix.String(), "dev", a.Dev)
		removed = append(removed, a)
	}
	return removed, errors.Join(errs...)
}

// Announce sends one gratuitous ARP (IPv4) or unsolicited neighbour
// advertisement (IPv6) per address, all on device dev.
func (m *Manager) Announce(dev string, addrs []netip.Addr) error {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return fmt.Errorf("announcing VIPs on %s: %w", dev, err)
	}
	var v4, v6 []netip.Addr
	for _, a := range addrs {
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	var errs []error
	if len(v4) > 0 {
		errs = append(errs, garp(ifi, v4))
	}
	if len(v6) > 0 {
		errs = append(errs, unsolicitedNA(ifi, v6))
	}
	return errors.Join(errs...)
}

// garp broadcasts a gratuitous ARP request (sender = target = VIP) per address.
func garp(ifi *net.Interface, addrs []netip.Addr) error {
	c, err := arp.Dial(ifi)
	if err != nil {
		return fmt.Errorf("opening ARP socket on %s: %w", ifi.Name, err)
	}
	defer c.Close()
	for _, a := range addrs {
		p, err := arp.NewPacket(arp.OperationRequest, ifi.HardwareAddr, a, ethernet.Broadcast, a)
		if err != nil {
			return fmt.Errorf("building gratuitous ARP for %s: %w", a, err)
		}
		if err := c.WriteTo(p, ethernet.Broadcast); err != nil {
			return fmt.Errorf("sending gratuitous ARP for %s on %s: %w", a, ifi.Name, err)
		}
	}
	return nil
}

// unsolicitedNA sends an unsolicited, overriding neighbour advertisement to
// all nodes (RFC 4861 §7.2.6) per address.
func unsolicitedNA(ifi *net.Interface, addrs []netip.Addr) error {
	c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
	if err != nil {
		c, _, err = ndp.Listen(ifi, ndp.Addr(addrs[0].String()))
	}
	if err != nil {
		return fmt.Errorf("opening NDP socket on %s: %w", ifi.Name, err)
	}
	defer c.Close()
	for _, a := range addrs {
		na := &ndp.NeighborAdvertisement{
			Override:      true,
			TargetAddress: a,
			Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: ifi.HardwareAddr}},
		}
		if err := c.WriteTo(na, nil, netip.IPv6LinkLocalAllNodes()); err != nil {
			return fmt.Errorf("sending neighbour advertisement for %s on %s: %w", a, ifi.Name, err)
		}
	}
	return nil
}
