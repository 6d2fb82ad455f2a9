package lvs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// genlSock is the one generic-netlink socket every IPVS request goes
// through: reads, single and batched writes, sync-daemon commands. The
// socket is github.com/mdlayher/netlink's (opened in a network namespace,
// non-blocking under Go's poller); requests and answers are framed here,
// because a batch needs every error answer matched to its request by
// sequence number, and netlink.Conn.Receive turns the first error of a read
// into a Go error without its sequence number. It is not safe for
// concurrent use: IPVS holds it under its mutex.
type genlSock struct {
	c      *netlink.Conn
	raw    syscall.RawConn
	family uint16 // the IPVS family's message type
	seq    uint32
	buf    []byte // receive buffer, reused: answers alias it until the next read
	out    []byte // send buffer, reused
}

// recvBuf holds the largest datagram the kernel sends a netlink socket: a
// dump part is at most 32 KiB.
const recvBuf = 64 << 10

func dialGenl(nsPath string) (*genlSock, error) {
	cfg := &netlink.Config{}
	if nsPath != "" {
		f, err := os.Open(nsPath)
		if err != nil {
			return nil, fmt.Errorf("opening network namespace %s: %w", nsPath, err)
		}
		defer f.Close()
		cfg.NetNS = int(f.Fd())
	}
	c, err := netlink.Dial(unix.NETLINK_GENERIC, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening generic netlink socket: %w", err)
	}
	raw, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("generic netlink socket: %w", err)
	}
	// Error answers need not echo the request; a batch's error answers
	// must fit the receive queue (beyond rmem_max when allowed). Both
	// best effort.
	_ = c.SetOption(netlink.CapAcknowledge, true)
	_ = raw.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
		}
	})
	return &genlSock{c: c, raw: raw, buf: make([]byte, recvBuf)}, nil
}

// resolve looks up the IPVS family. When it is missing it runs "modprobe
// ip_vs" once (as ipvsadm does) and looks again.
func (g *genlSock) resolve() error {
	err := g.lookupFamily("IPVS")
	if errors.Is(err, unix.ENOENT) {
		_ = exec.Command("modprobe", "-q", "ip_vs").Run() // best effort; the second lookup tells
		err = g.lookupFamily("IPVS")
	}
	if err != nil {
		return fmt.Errorf("%w (generic netlink family IPVS: %v)", ErrNoIPVS, err)
	}
	return nil
}

func (g *genlSock) lookupFamily(name string) error {
	w := attrWriter{b: append(make([]byte, 0, 32), unix.CTRL_CMD_GETFAMILY, 1, 0, 0)}
	w.str(unix.CTRL_ATTR_FAMILY_NAME, name)
	var id uint16
	err := g.exchange(unix.GENL_ID_CTRL, 0, w.b, func(b []byte) error {
		if len(b) < 4 {
			return errBadAttr
		}
		return forAttrs(b[4:], func(typ uint16, v []byte) {
			if typ == unix.CTRL_ATTR_FAMILY_ID {
				id = getU16(v)
			}
		})
	})
	if err == nil && id == 0 {
		err = fmt.Errorf("no family id in the answer")
	}
	g.family = id
	return err
}

func (g *genlSock) close() error { return g.c.Close() }

// appendMsg appends a netlink message header and data to b.
func appendMsg(b []byte, typ, flags uint16, seq uint32, data []byte) []byte {
	b = ne.AppendUint32(b, uint32(unix.NLMSG_HDRLEN+len(data)))
	b = ne.AppendUint16(b, typ)
	b = ne.AppendUint16(b, flags)
	b = ne.AppendUint32(b, seq)
	b = ne.AppendUint32(b, 0) // the kernel fills in our port id
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (g *genlSock) send(b []byte) error {
	var serr error
	err := g.raw.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	return err
}

// recv reads one datagram and returns its messages' bytes, aliasing g.buf.
func (g *genlSock) recv() ([]byte, error) {
	var n, flags int
	var rerr error
	err := g.raw.Read(func(fd uintptr) bool {
		n, _, flags, _, rerr = unix.Recvmsg(int(fd), g.buf, nil, 0)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	if flags&unix.MSG_TRUNC != 0 {
		return nil, fmt.Errorf("netlink answer larger than %d bytes", len(g.buf))
	}
	return g.buf[:n], nil
}

// nlMsg is one message of a datagram; data aliases the receive buffer.
type nlMsg struct {
	typ, flags uint16
	seq        uint32
	data       []byte
}

// errno returns the error code of an NLMSG_ERROR message (0 for an
// acknowledgement) and of a NLMSG_DONE carrying one.
func (m nlMsg) errno() syscall.Errno {
	if (m.typ == unix.NLMSG_ERROR || m.typ == unix.NLMSG_DONE) && len(m.data) >= 4 {
		if c := int32(ne.Uint32(m.data)); c < 0 {
			return syscall.Errno(-c)
		}
	}
	return 0
}

// forMsgs calls fn for each message in a datagram, stopping when it
// returns false.
func forMsgs(b []byte, fn func(m nlMsg) bool) error {
	for len(b) >= unix.NLMSG_HDRLEN {
		n := int(ne.Uint32(b))
		if n < unix.NLMSG_HDRLEN || n > len(b) {
			return fmt.Errorf("malformed netlink message (length %d of %d)", n, len(b))
		}
		m := nlMsg{typ: ne.Uint16(b[4:]), flags: ne.Uint16(b[6:]), seq: ne.Uint32(b[8:]), data: b[unix.NLMSG_HDRLEN:n]}
		if !fn(m) {
			return nil
		}
		b = b[min(len(b), (n+3)&^3):]
	}
	return nil
}

// exchange sends one request of message type typ and calls each with the
// payload of every answer: the parts of a dump up to NLMSG_DONE, the one
// reply of a get, or nothing for an acknowledged write. The payload aliases
// the receive buffer.
func (g *genlSock) exchange(typ, flags uint16, data []byte, each func([]byte) error) error {
	g.seq++
	seq := g.seq
	g.out = appendMsg(g.out[:0], typ, unix.NLM_F_REQUEST|flags, seq, data)
	if err := g.send(g.out); err != nil {
		return err
	}
	for {
		b, err := g.recv()
		if err != nil {
			return err
		}
		done := false
		var cbErr error
		if err := forMsgs(b, func(m nlMsg) bool {
			if m.seq != seq {
				return true // a late answer to something earlier
			}
			switch m.typ {
			case unix.NLMSG_ERROR, unix.NLMSG_DONE:
				if e := m.errno(); e != 0 {
					cbErr = e
				}
				done = true
				return false
			}
			if cbErr == nil && each != nil {
				cbErr = each(m.data)
			}
			if m.flags&unix.NLM_F_MULTI == 0 {
				done = true
				return false
			}
			return true
		}); err != nil {
			return err
		}
		if done {
			return cbErr
		}
	}
}

// request is exchange for the IPVS family: cmd with attributes written by
// fill.
func (g *genlSock) request(cmd uint8, flags uint16, fill func(w *attrWriter), each func([]byte) error) error {
	w := attrWriter{b: appendGenl(make([]byte, 0, 128), cmd)}
	if fill != nil {
		fill(&w)
	}
	return g.exchange(g.family, flags, w.b, each)
}
