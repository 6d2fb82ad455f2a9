package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// rawIO moves adverts with sendmsg and recvmsg issued as raw system calls
// on the socket's non-blocking descriptor, waiting on the runtime's poller
// when the socket is not ready (syscall.RawConn.Read/Write). A call
// through syscall.Syscall, as the net package makes it, tells the runtime
// that a system call may block; in a process that was idle, that wakes its
// monitor thread, which then polls at 20 µs intervals until the process is
// idle again: a third of an idle master's CPU at a 10 ms advert interval,
// for calls that never block here. Nothing is allocated per advert.
type rawIO struct {
	rc    syscall.RawConn
	six   bool
	strip bool // an IPv4 raw socket: datagrams come with their IP header

	rx    unix.Msghdr
	rxIov unix.Iovec
	rxSA  unix.RawSockaddrAny
	rxOOB []byte
	// The last recv's results, and recv as a func value made once.
	rxN, rxOOBN int
	rxErr       syscall.Errno
	recvFn      func(uintptr) bool
	recvNowFn   func(uintptr) bool // recv that never waits

	txMu    sync.Mutex // the fields below
	tx      unix.Msghdr
	txIov   unix.Iovec
	txSA4   unix.RawSockaddrInet4
	txSA6   unix.RawSockaddrInet6
	txOOB   []byte // control message for multicast (and every IPv6) send
	txOOBuc []byte // IPv4 unicast: the source only
	txErr   syscall.Errno
	sendFn  func(uintptr) bool
}

// newRawIO prepares raw I/O on pc; nil when pc has no descriptor.
func newRawIO(pc net.PacketConn, six bool, local netip.Addr, ifIndex int) *rawIO {
	sc, ok := pc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	_, ipConn := pc.(*net.IPConn)
	r := &rawIO{rc: rc, six: six, strip: ipConn && !six}
	r.recvFn, r.sendFn = r.recv, r.send
	r.recvNowFn = func(fd uintptr) bool { r.recv(fd); return true }
	if six {
		r.rxOOB = ipv6.NewControlMessage(ipv6.FlagHopLimit | ipv6.FlagDst | ipv6.FlagInterface)
		r.txOOB = (&ipv6.ControlMessage{Src: local.AsSlice(), IfIndex: ifIndex}).Marshal()
	} else {
		r.rxOOB = ipv4.NewControlMessage(ipv4.FlagTTL | ipv4.FlagDst | ipv4.FlagInterface)
		r.txOOB = (&ipv4.ControlMessage{Src: local.AsSlice(), IfIndex: ifIndex}).Marshal()
		r.txOOBuc = (&ipv4.ControlMessage{Src: local.AsSlice()}).Marshal()
	}
	return r
}

// read receives one datagram into b; it waits on the poller while there
// is none, and fails once the socket is closed or its deadline passes.
func (r *rawIO) read(b []byte) (Datagram, error) {
	d, _, err := r.recvInto(b, r.recvFn)
	return d, err
}

// readNow is read without waiting: ok false when nothing is queued.
func (r *rawIO) readNow(b []byte) (d Datagram, ok bool, err error) {
	return r.recvInto(b, r.recvNowFn)
}

func (r *rawIO) recvInto(b []byte, fn func(uintptr) bool) (Datagram, bool, error) {
	d := Datagram{TTL: -1}
	if len(b) == 0 {
		return d, false, errors.New("reading advert: no buffer")
	}
	r.rxIov.Base = &b[0]
	r.rxIov.SetLen(len(b))
	err := r.rc.Read(fn)
	r.rxIov.Base = nil
	n, oobn, errno := r.rxN, r.rxOOBN, r.rxErr
	if err == nil && errno == unix.EAGAIN {
		return d, false, nil
	}
	if err == nil && errno != 0 {
		err = errno
	}
	if err != nil {
		return d, false, fmt.Errorf("reading advert: %w", err)
	}
	d.TTL, d.IfIndex, d.Dst = parseControl(r.rxOOB[:oobn])
	d.Data = b[:n]
	if r.strip {
		d.Data = stripIPv4Header(d.Data)
	}
	d.Src = sockaddrAddr(&r.rxSA)
	return d, true, nil
}

// parseControl reads the TTL or hop limit, the receiving interface and the
// destination address from a received datagram's control messages (TTL -1
// when absent), without allocating.
func parseControl(oob []byte) (ttl, ifIndex int, dst netip.Addr) {
	ttl = -1
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			break
		}
		oob = rest
		switch {
		case (h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TTL || h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_HOPLIMIT) && len(data) >= 4:
			ttl = int(int32(binary.NativeEndian.Uint32(data)))
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
			ifIndex, dst = int(pi.Ifindex), netip.AddrFrom4(pi.Addr)
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			pi := (*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
			ifIndex, dst = int(pi.Ifindex), netip.AddrFrom16(pi.Addr)
		}
	}
	return ttl, ifIndex, dst
}

// stripIPv4Header returns the payload of an IPv4 packet, as the net
// package's IPConn does; b unchanged when it does not hold an IPv4 header.
func stripIPv4Header(b []byte) []byte {
	if len(b) < ipv4.HeaderLen || b[0]>>4 != 4 {
		return b
	}
	hl := int(b[0]&0x0f) << 2
	if hl < ipv4.HeaderLen || hl > len(b) {
		return b
	}
	return b[hl:]
}

// recv is one recvmsg into the buffer set in rxIov, false when the socket
// has nothing (the poller then waits for it).
func (r *rawIO) recv(fd uintptr) bool {
	r.rx = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&r.rxSA)), Namelen: unix.SizeofSockaddrAny, Iov: &r.rxIov}
	r.rx.SetIovlen(1)
	r.rx.Control = &r.rxOOB[0]
	r.rx.SetControllen(len(r.rxOOB))
	for {
		x, _, e := syscall.RawSyscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&r.rx)), unix.MSG_DONTWAIT)
		if e == unix.EINTR {
			continue
		}
		r.rxN, r.rxOOBN, r.rxErr = int(x), int(r.rx.Controllen), e
		return e != unix.EAGAIN
	}
}

// sockaddrAddr is the address of a received datagram's sender.
func sockaddrAddr(sa *unix.RawSockaddrAny) netip.Addr {
	switch sa.Addr.Family {
	case unix.AF_INET:
		return netip.AddrFrom4((*unix.RawSockaddrInet4)(unsafe.Pointer(sa)).Addr)
	case unix.AF_INET6:
		a := netip.AddrFrom16((*unix.RawSockaddrInet6)(unsafe.Pointer(sa)).Addr)
		if a.Is4In6() {
			return a.Unmap()
		}
		return a
	}
	return netip.Addr{}
}

// write sends b to dst (port: 0, but for tests over UDP) with the source
// address and, for multicast and IPv6, the interface; scope is the IPv6
// destination's scope (interface index of a link-local address, else 0).
// It waits on the poller while the socket's buffer is full.
func (r *rawIO) write(b []byte, dst netip.Addr, port int, scope int) error {
	r.txMu.Lock()
	defer r.txMu.Unlock()
	var sa unsafe.Pointer
	var salen uint32
	oob := r.txOOB
	if r.six {
		r.txSA6 = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: htons(port), Addr: dst.As16()}
		r.txSA6.Scope_id = uint32(scope)
		sa, salen = unsafe.Pointer(&r.txSA6), unix.SizeofSockaddrInet6
	} else {
		r.txSA4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: htons(port), Addr: dst.Unmap().As4()}
		sa, salen = unsafe.Pointer(&r.txSA4), unix.SizeofSockaddrInet4
		if !dst.IsMulticast() {
			oob = r.txOOBuc
		}
	}
	if len(b) == 0 {
		return errors.New("empty advert")
	}
	r.txIov.Base = &b[0]
	r.txIov.SetLen(len(b))
	r.tx = unix.Msghdr{Name: (*byte)(sa), Namelen: salen, Iov: &r.txIov}
	r.tx.SetIovlen(1)
	if len(oob) > 0 {
		r.tx.Control = &oob[0]
		r.tx.SetControllen(len(oob))
	}
	err := r.rc.Write(r.sendFn)
	r.txIov.Base = nil
	if err == nil && r.txErr != 0 {
		err = r.txErr
	}
	return err
}

// send is one sendmsg of the message set in tx, false when the socket's
// buffer is full (the poller then waits for room).
func (r *rawIO) send(fd uintptr) bool {
	for {
		_, _, e := syscall.RawSyscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&r.tx)), unix.MSG_DONTWAIT)
		if e == unix.EINTR {
			continue
		}
		r.txErr = e
		return e != unix.EAGAIN
	}
}

// htons is a port in network byte order, as a sockaddr holds it.
func htons(p int) uint16 {
	return uint16(p>>8&0xff) | uint16(p&0xff)<<8
}
