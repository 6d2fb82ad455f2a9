package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"syscall"

	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// dscpCS6 is the traffic class of adverts: DSCP CS6 (network control).
const dscpCS6 = 48 << 2

// RawConn is a protocol-112 socket on one interface, multicast or unicast.
type RawConn struct {
	ifi   *net.Interface
	local netip.Addr
	group bool // multicast: joined the group, filter by interface
	pc    net.PacketConn
	p4    *ipv4.PacketConn
	p6    *ipv6.PacketConn
	io    *rawIO // adverts in and out, as raw system calls (rawio_linux.go)
	port  int    // destination port (tests send over UDP)
}

var _ Conn = (*RawConn)(nil)

// Listen opens the raw socket of an instance: IPv4 or IPv6 per cfg.IPv6,
// joined to the VRRP group on cfg.Interface unless unicast peers are
// configured. Adverts are sent from cfg.UnicastSource, or else from the
// interface's primary address (IPv6: its link-local address).
func Listen(cfg Config) (*RawConn, error) {
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("interface %s does not exist", cfg.Interface)
	}
	local, err := PrimaryAddr(cfg, ifi)
	if err != nil {
		return nil, err
	}
	network := "ip4:" + strconv.Itoa(Protocol)
	if cfg.IPv6 {
		network = "ip6:" + strconv.Itoa(Protocol)
	}
	pc, err := net.ListenPacket(network, "")
	if err != nil {
		return nil, fmt.Errorf("opening VRRP socket on %s: %w", cfg.Interface, err)
	}
	c, err := newRawConn(cfg, ifi, local, pc)
	if err != nil {
		pc.Close()
		return nil, err
	}
	return c, nil
}

// newRawConn wraps pc, a protocol-112 socket (tests pass a UDP socket and
// set RawConn.port), and sets it up: TTL/hop limit 255, DSCP CS6, control
// messages, group membership. x/net's PacketConn sets the options; adverts
// move through rawIO.
func newRawConn(cfg Config, ifi *net.Interface, local netip.Addr, pc net.PacketConn) (*RawConn, error) {
	c := &RawConn{ifi: ifi, local: local, pc: pc, group: len(cfg.UnicastPeers) == 0}
	if c.io = newRawIO(pc, cfg.IPv6, local, ifi.Index); c.io == nil {
		return nil, fmt.Errorf("VRRP socket on %s has no file descriptor", ifi.Name)
	}
	growReadBuffer(pc)
	var err error
	if cfg.IPv6 {
		err = c.setup6()
	} else {
		err = c.setup4()
	}
	if err != nil {
		return nil, fmt.Errorf("setting up VRRP socket on %s: %w", ifi.Name, err)
	}
	return c, nil
}

func (c *RawConn) setup4() error {
	p := ipv4.NewPacketConn(c.pc)
	c.p4 = p
	if err := p.SetTTL(255); err != nil {
		return err
	}
	if err := p.SetTOS(dscpCS6); err != nil {
		return err
	}
	if err := p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
		return err
	}
	if !c.group {
		return nil
	}
	return errors.Join(
		p.SetMulticastTTL(255),
		p.SetMulticastLoopback(false),
		p.SetMulticastInterface(c.ifi),
		p.JoinGroup(c.ifi, &net.IPAddr{IP: MulticastIPv4.AsSlice()}))
}

func (c *RawConn) setup6() error {
	p := ipv6.NewPacketConn(c.pc)
	c.p6 = p
	if err := p.SetHopLimit(255); err != nil {
		return err
	}
	if err := p.SetTrafficClass(dscpCS6); err != nil {
		return err
	}
	if err := p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true); err != nil {
		return err
	}
	if !c.group {
		return nil
	}
	return errors.Join(
		p.SetMulticastHopLimit(255),
		p.SetMulticastLoopback(false),
		p.SetMulticastInterface(c.ifi),
		p.JoinGroup(c.ifi, &net.IPAddr{IP: MulticastIPv6.AsSlice()}))
}

// rcvBuf is the receive buffer asked for: room for thousands of adverts,
// so a flood of junk does not make the kernel drop the master's adverts
// before we read them.
const rcvBuf = 4 << 20

func growReadBuffer(pc net.PacketConn) {
	sc, ok := pc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	var serr error
	_ = rc.Control(func(fd uintptr) {
		// SO_RCVBUFFORCE (CAP_NET_ADMIN) passes net.core.rmem_max.
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf)
	})
	if serr != nil {
		if rb, ok := pc.(interface{ SetReadBuffer(int) error }); ok {
			_ = rb.SetReadBuffer(rcvBuf)
		}
	}
}

// FilterSiblings attaches a socket filter that discards, in the kernel,
// adverts carrying one of siblings' VRIDs other than own (see
// siblingFilter): an instance is then woken only by adverts it may count.
// With no sibling left the filter accepts everything.
func (c *RawConn) FilterSiblings(own uint8, siblings []uint8) error {
	prog := siblingFilter(own, siblings, c.p4 != nil)
	if prog == nil {
		prog = []bpf.Instruction{bpf.RetConstant{Val: bpfAccept}}
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("assembling the VRID filter: %w", err)
	}
	if c.p4 != nil {
		err = c.p4.SetBPF(raw)
	} else {
		err = c.p6.SetBPF(raw)
	}
	if err != nil {
		return fmt.Errorf("attaching the VRID filter on %s: %w", c.ifi.Name, err)
	}
	return nil
}

// LocalAddr is the address adverts are sent from.
func (c *RawConn) LocalAddr() netip.Addr { return c.local }

// IfIndex is the index of the interface the socket works on.
func (c *RawConn) IfIndex() int { return c.ifi.Index }

// Close closes the socket; a blocked ReadFrom returns an error.
func (c *RawConn) Close() error { return c.pc.Close() }

// ReadFrom returns the next payload received on the instance's interface,
// with its TTL/hop limit and addresses; payloads that arrive on other
// interfaces (a raw socket sees them all) are skipped.
func (c *RawConn) ReadFrom(b []byte) (Datagram, error) {
	for {
		d, err := c.read(b)
		if err != nil {
			return d, err
		}
		if c.group && d.IfIndex != 0 && d.IfIndex != c.ifi.Index {
			continue
		}
		return d, nil
	}
}

func (c *RawConn) read(b []byte) (Datagram, error) { return c.io.read(b) }

// WriteTo sends b to dst from the local address.
func (c *RawConn) WriteTo(b []byte, dst netip.Addr) error {
	scope := 0
	if dst.Is6() && dst.IsLinkLocalUnicast() {
		scope = c.ifi.Index
	}
	if err := c.io.write(b, dst, c.port, scope); err != nil {
		return fmt.Errorf("sending advert to %v: %w", dst, err)
	}
	return nil
}

// PrimaryAddr is the address an instance sends from: the unicast source if
// configured, else the interface's first IPv4 address (IPv6: its first
// link-local address) that is not one of the instance's VIPs.
func PrimaryAddr(cfg Config, ifi *net.Interface) (netip.Addr, error) {
	if cfg.UnicastSource.IsValid() {
		return cfg.UnicastSource, nil
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("listing addresses of %s: %w", ifi.Name, err)
	}
	vips := advertAddrs(cfg)
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := p.Addr().Unmap()
		if slices.Contains(vips, ip) {
			continue
		}
		if !cfg.IPv6 && ip.Is4() || cfg.IPv6 && ip.Is6() && ip.IsLinkLocalUnicast() {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no primary %s address on %s", family(cfg.IPv6), ifi.Name)
}

func family(six bool) string {
	if six {
		return "IPv6 link-local"
	}
	return "IPv4"
}
