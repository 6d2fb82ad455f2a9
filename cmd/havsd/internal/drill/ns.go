package drill

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Vantage runs functions on one OS thread that lives in a network namespace,
// so that the sockets they open belong to it. Sockets are usable from any
// goroutine once open. The zero namespace name means the caller's own.
type Vantage struct {
	name string
	reqs chan func()
	stop chan struct{}
}

// EnterNS starts a thread inside the named namespace ("" for no switch).
func EnterNS(name string) (*Vantage, error) {
	v := &Vantage{name: name, reqs: make(chan func()), stop: make(chan struct{})}
	if name == "" {
		return v, nil
	}
	ready := make(chan error, 1)
	go func() {
		// The thread never returns to the Go scheduler's pool: it dies with
		// this goroutine, still locked, when Close is called.
		runtime.LockOSThread()
		h, err := netns.GetFromName(name)
		if err != nil {
			ready <- fmt.Errorf("opening namespace %s: %w", name, err)
			return
		}
		err = netns.Set(h)
		h.Close()
		if err != nil {
			ready <- fmt.Errorf("entering namespace %s: %w", name, err)
			return
		}
		ready <- nil
		for {
			select {
			case f := <-v.reqs:
				f()
			case <-v.stop:
				return
			}
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return v, nil
}

// Name is the namespace name ("" for the caller's own).
func (v *Vantage) Name() string { return v.name }

// Do runs f inside the namespace and returns its error.
func (v *Vantage) Do(f func() error) error {
	if v == nil || v.name == "" {
		return f()
	}
	errc := make(chan error, 1)
	select {
	case v.reqs <- func() { errc <- f() }:
	case <-v.stop:
		return fmt.Errorf("namespace %s: vantage closed", v.name)
	}
	return <-errc
}

// Close ends the namespace thread.
func (v *Vantage) Close() {
	if v == nil || v.name == "" {
		return
	}
	select {
	case <-v.stop:
	default:
		close(v.stop)
	}
}

// DialTCP opens a TCP connection to dst from the vantage's namespace, from
// src when it is valid (any port): the socket is made (and bound) inside
// the namespace, then connected from the calling goroutine, waiting in the
// runtime poller until ctx's deadline, so a connect that hangs holds up no
// other.
func (v *Vantage) DialTCP(ctx context.Context, src netip.Addr, dst netip.AddrPort) (net.Conn, error) {
	var fd int
	err := v.Do(func() (err error) {
		if fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		if src.IsValid() {
			if err = unix.Bind(fd, &unix.SockaddrInet4{Addr: src.As4()}); err != nil {
				unix.Close(fd)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening a socket: %w", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: int(dst.Port()), Addr: dst.Addr().As4()}); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		return nil, fmt.Errorf("connecting to %s: %w", dst, err)
	}
	f := os.NewFile(uintptr(fd), "tcp")
	defer f.Close() // FileConn dups the descriptor
	if dl, ok := ctx.Deadline(); ok {
		_ = f.SetWriteDeadline(dl)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cerr error
	werr := rc.Write(func(fd uintptr) bool {
		n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil && n != 0 {
			err = unix.Errno(n)
		}
		if err != nil {
			cerr = err
			return true
		}
		_, err = unix.Getpeername(int(fd))
		return !errors.Is(err, unix.ENOTCONN) // still connecting: wait for writability
	})
	if err := errors.Join(werr, cerr); err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", dst, err)
	}
	_ = f.SetWriteDeadline(time.Time{})
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", dst, err)
	}
	return c, nil
}
