package vrrp

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// evLoop lets the loop goroutine wait for its socket, its deadline and
// its mailbox at once, as one wait on the runtime's poller: an epoll
// instance of its own holds the socket, a timerfd (the deadline) and an
// eventfd (kicked by whoever queues an input for the loop), and the
// runtime polls that epoll descriptor. An advert or an expired deadline
// then wakes exactly one goroutine, the loop, on the thread that polled,
// with no hand-off between goroutines. A runtime timer would instead wake
// the runtime's monitor thread at every deadline, and readying a
// goroutine from another wakes a second thread: at a 10 ms advert
// interval those thread switches, not the adverts, were most of an idle
// instance's CPU.
type evLoop struct {
	ep   *os.File // the epoll instance, registered with the runtime's poller
	rc   syscall.RawConn
	kick *os.File // eventfd; written through the File, safe after Close
	kfd  int
	tfd  int // timerfd (CLOCK_MONOTONIC, as time.Now's monotonic reading)
	sock int // the socket's descriptor in the set, -1 when none

	// armed is the deadline the timerfd is set to (zero: none pending).
	// It is only moved earlier: a later deadline waits until the timer
	// fires, so a backup does not re-arm it per advert.
	armed time.Time
	its   unix.ItimerSpec

	evs    [4]unix.EpollEvent
	n      int
	errno  syscall.Errno
	block  bool // waitFn: park on the poller when nothing is ready
	waitFn func(uintptr) bool
	u64    [8]byte
}

// newEvLoop creates the epoll instance, the timerfd and the eventfd.
func newEvLoop() (*evLoop, error) {
	e := &evLoop{sock: -1, kfd: -1, tfd: -1}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll descriptor: %w", err)
	}
	e.ep = os.NewFile(uintptr(epfd), "vrrp-epoll")
	if e.rc, err = e.ep.SyscallConn(); err != nil {
		e.close()
		return nil, err
	}
	if e.kfd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		e.close()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	e.kick = os.NewFile(uintptr(e.kfd), "vrrp-kick")
	if e.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		e.close()
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	for _, fd := range []int{e.kfd, e.tfd} {
		if err := e.ctl(unix.EPOLL_CTL_ADD, fd); err != nil {
			e.close()
			return nil, err
		}
	}
	e.waitFn = e.poll
	return e, nil
}

// ctl adds or removes fd (level-triggered: a descriptor left readable is
// reported again by the next wait).
func (e *evLoop) ctl(op, fd int) error {
	var err error
	cerr := e.rc.Control(func(epfd uintptr) {
		err = unix.EpollCtl(int(epfd), op, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

// watch puts the socket fd in the set (replacing any other).
func (e *evLoop) watch(fd int) error {
	e.unwatch()
	if err := e.ctl(unix.EPOLL_CTL_ADD, fd); err != nil {
		return err
	}
	e.sock = fd
	return nil
}

// unwatch takes the socket out of the set; call it before closing it.
func (e *evLoop) unwatch() {
	if e.sock >= 0 {
		_ = e.ctl(unix.EPOLL_CTL_DEL, e.sock)
		e.sock = -1
	}
}

// wake makes the loop's wait return (kicked). Safe from any goroutine,
// also after close.
func (e *evLoop) wake() {
	one := [8]byte{1}
	_, _ = e.kick.Write(one[:])
}

// arm makes the timerfd fire at the latest at; a zero at leaves it as it
// is (a timer that fires with nothing due is harmless). After the timer
// fired, the loop calls arm with a deadline before it waits again: setting
// the timer clears its expiry, so the fired timer is not reported again.
func (e *evLoop) arm(at, now time.Time) error {
	if at.IsZero() && !e.armed.IsZero() || !e.armed.IsZero() && !at.Before(e.armed) {
		return nil
	}
	if at.IsZero() {
		e.drain(e.tfd) // fired, and nothing to wait for
		return nil
	}
	d := max(at.Sub(now), time.Nanosecond) // zero would disarm it
	e.its = unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	_, _, errno := syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(e.tfd), 0, uintptr(unsafe.Pointer(&e.its)), 0, 0, 0)
	if errno != 0 {
		return fmt.Errorf("timerfd_settime: %w", errno)
	}
	e.armed = at
	return nil
}

// poll is one epoll_wait that does not block; false (wait on the poller)
// when nothing is ready and blocking is allowed.
func (e *evLoop) poll(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, fd, uintptr(unsafe.Pointer(&e.evs[0])), uintptr(len(e.evs)), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		e.n, e.errno = int(n), errno
		return errno != 0 || n > 0 || !e.block
	}
}

// wait returns what is ready: the socket readable, a kick, the timer
// fired (the kick and the timer are consumed). With block false it only
// looks.
func (e *evLoop) wait(block bool) (sock, kicked, timer bool, err error) {
	e.block = block
	if err := e.rc.Read(e.waitFn); err != nil {
		return false, false, false, fmt.Errorf("waiting on epoll: %w", err)
	}
	if e.errno != 0 {
		return false, false, false, fmt.Errorf("epoll_wait: %w", e.errno)
	}
	for _, ev := range e.evs[:e.n] {
		switch int(ev.Fd) {
		case e.sock:
			sock = true
		case e.kfd:
			kicked = true
			e.drain(e.kfd)
		case e.tfd:
			// Not read: the next arm (before the next wait) sets the
			// timer again, which clears it; close does not care.
			timer = true
			e.armed = time.Time{}
		}
	}
	return sock, kicked, timer, nil
}

// drain reads an eventfd's or timerfd's counter, which clears it.
func (e *evLoop) drain(fd int) {
	for {
		_, _, errno := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&e.u64[0])), 8)
		if errno != unix.EINTR {
			return
		}
	}
}

// close releases the descriptors; the socket is not closed.
func (e *evLoop) close() {
	e.unwatch()
	if e.tfd >= 0 {
		unix.Close(e.tfd)
		e.tfd = -1
	}
	var errs []error
	if e.kick != nil {
		errs = append(errs, e.kick.Close())
	}
	if e.ep != nil {
		errs = append(errs, e.ep.Close())
	}
	_ = errors.Join(errs...)
}

// sysfd is the socket's descriptor, for the loop's epoll set.
func (c *RawConn) sysfd() (int, error) {
	var fd int
	if err := c.io.rc.Control(func(s uintptr) { fd = int(s) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// readNow is ReadFrom without waiting: ok false when nothing is queued.
func (c *RawConn) readNow(b []byte) (d Datagram, ok bool, err error) {
	for {
		d, ok, err = c.io.readNow(b)
		if err != nil || !ok {
			return d, ok, err
		}
		if c.group && d.IfIndex != 0 && d.IfIndex != c.ifi.Index {
			continue
		}
		return d, true, nil
	}
}
