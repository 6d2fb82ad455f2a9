package checks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// evLoop runs the simplest checks, a TCP connect and an HTTP GET that
// needs the status only on a new connection, on one goroutine with epoll,
// as keepalived does: no goroutine, runtime timer or context per check,
// and no allocation beyond the socket once warm. At each wake-up it
// handles the sockets that are ready before the deadlines that passed, so
// an answer that arrived while the checker was descheduled is read, not
// timed out.
type evLoop struct {
	epfd, wakefd int
	done         func(c *evConn, err error, cancelled bool)

	mu      sync.Mutex
	pending []*evConn
	free    []*evConn
	closing bool

	conns  map[int32]*evConn // owned by the loop goroutine
	events []unix.EpollEvent
}

// evJob is what the loop needs to run one check.
type evJob struct {
	target  netip.AddrPort
	source  netip.Addr
	timeout time.Duration
	request []byte // nil for a TCP connect check
	url     string
	status  []StatusRange
}

// evConn is one check in flight.
type evConn struct {
	job      evJob
	p        *probe
	start    time.Time
	deadline time.Time
	fd       int
	phase    string
	wrote    int
	buf      [1024]byte
	n        int  // bytes in buf
	code     int  // status, once its line is read
	tail     bool // buf holds the tail of a long header line
}

// evJobOf returns the loop's job for checker c, if the loop can run it.
func evJobOf(c Checker) (evJob, bool) {
	switch c := c.(type) {
	case *tcpProbe:
		if c.target.Addr().Zone() != "" || c.shape.spec.BindIf != "" {
			return evJob{}, false
		}
		return evJob{target: c.target, source: c.shape.spec.Source, timeout: c.shape.spec.Timeout}, true
	case *tcpChecker:
		if c.target.Addr().Zone() != "" || c.spec.BindIf != "" {
			return evJob{}, false
		}
		return evJob{target: c.target, source: c.spec.Source, timeout: c.spec.Timeout}, true
	case *httpChecker:
		if c.spec.Kind != KindHTTP || c.get.keepAlive || c.sh.digest != "" || c.sh.re != nil || c.target.Addr().Zone() != "" || c.spec.BindIf != "" {
			return evJob{}, false
		}
		return evJob{target: c.target, source: c.spec.Source, timeout: c.spec.Timeout,
			request: c.get.request, url: c.get.url, status: c.sh.status}, true
	}
	return evJob{}, false
}

func newEvLoop(done func(c *evConn, err error, cancelled bool)) (*evLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	return &evLoop{epfd: epfd, wakefd: wakefd, done: done, conns: map[int32]*evConn{},
		events: make([]unix.EpollEvent, 256)}, nil
}

// submit queues a check; the loop starts it at once.
func (l *evLoop) submit(p *probe, job evJob) {
	l.mu.Lock()
	var c *evConn
	if n := len(l.free); n > 0 {
		c, l.free = l.free[n-1], l.free[:n-1]
	} else {
		c = new(evConn)
	}
	c.job, c.p, c.fd = job, p, -1
	wake := len(l.pending) == 0
	l.pending = append(l.pending, c)
	l.mu.Unlock()
	if wake {
		l.wake()
	}
}

func (l *evLoop) wake() {
	one := [8]byte{1}
	unix.Write(l.wakefd, one[:])
}

// close makes run cancel the checks in flight and return; nothing may be
// submitted after it.
func (l *evLoop) close() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.wake()
}

// run handles checks until close, then reports those in flight as
// cancelled and releases the loop's descriptors.
func (l *evLoop) run() {
	defer unix.Close(l.epfd)
	defer unix.Close(l.wakefd)
	for {
		l.mu.Lock()
		pending, closing := l.pending, l.closing
		l.pending = nil
		l.mu.Unlock()
		if closing {
			for _, c := range pending {
				l.report(c, nil, true)
			}
			for _, c := range l.conns {
				l.finish(c, nil, true)
			}
			return
		}
		for _, c := range pending {
			l.start(c)
		}
		wait := -1
		now := time.Now()
		for _, c := range l.conns {
			ms := int((c.deadline.Sub(now) + time.Millisecond - 1) / time.Millisecond)
			if wait < 0 || ms < wait {
				wait = max(ms, 0)
			}
		}
		n, err := unix.EpollWait(l.epfd, l.events, wait)
		if err != nil && !errors.Is(err, unix.EINTR) {
			n = 0 // cannot happen with valid arguments; deadlines still run
		}
		for _, ev := range l.events[:max(n, 0)] {
			if int(ev.Fd) == l.wakefd {
				var b [8]byte
				unix.Read(l.wakefd, b[:])
				continue
			}
			if c := l.conns[ev.Fd]; c != nil {
				l.step(c, ev.Events)
			}
		}
		now = time.Now()
		for _, c := range l.conns {
			if !now.Before(c.deadline) {
				l.finish(c, l.timeoutErr(c), false)
			}
		}
	}
}

// start opens the socket and issues the connect; the timeout runs from
// here.
func (l *evLoop) start(c *evConn) {
	c.start = time.Now()
	c.deadline = c.start.Add(c.job.timeout)
	c.phase, c.wrote, c.n, c.code, c.tail, c.fd = phaseConnect, 0, 0, 0, false, -1
	family, sa := unix.AF_INET, sockaddr(c.job.target)
	if c.job.target.Addr().Is6() && !c.job.target.Addr().Is4In6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.report(c, fmt.Errorf("connect %s: socket: %w", c.job.target, err), false)
		return
	}
	c.fd = fd
	if c.job.source.IsValid() {
		if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(c.job.source, 0))); err != nil {
			l.report(c, fmt.Errorf("connect %s: binding to %s: %w", c.job.target, c.job.source, err), false)
			return
		}
	}
	if err := unix.Connect(fd, sa); err != nil && err != unix.EINPROGRESS {
		l.report(c, l.connectErr(c, err), false)
		return
	}
	ev := unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.report(c, fmt.Errorf("connect %s: epoll: %w", c.job.target, err), false)
		return
	}
	l.conns[int32(fd)] = c
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if a := ap.Addr(); a.Is4() || a.Is4In6() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

// step advances c on readiness events.
func (l *evLoop) step(c *evConn, events uint32) {
	switch c.phase {
	case phaseConnect:
		errno, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil && errno != 0 {
			err = unix.Errno(errno)
		}
		if err != nil {
			l.finish(c, l.connectErr(c, err), false)
			return
		}
		if c.job.request == nil {
			unix.SetsockoptLinger(c.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1}) // RST: no TIME_WAIT
			l.finish(c, nil, false)
			return
		}
		c.phase = phaseSend
		fallthrough
	case phaseSend:
		for c.wrote < len(c.job.request) {
			n, err := unix.Write(c.fd, c.job.request[c.wrote:])
			if err == unix.EAGAIN {
				return // wait for EPOLLOUT
			}
			if err != nil {
				l.finish(c, fmt.Errorf("GET %s: %s: %w", c.job.url, c.phase, err), false)
				return
			}
			c.wrote += n
		}
		c.phase = phaseHeaders
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c.fd)}
		unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev)
	case phaseHeaders:
		for {
			n, err := unix.Read(c.fd, c.buf[c.n:])
			switch {
			case err == unix.EAGAIN:
				return
			case err != nil:
				l.finish(c, fmt.Errorf("GET %s: %s: %w", c.job.url, c.phase, err), false)
				return
			case n == 0:
				l.finish(c, fmt.Errorf("GET %s: %s: %w", c.job.url, c.phase, io.ErrUnexpectedEOF), false)
				return
			}
			c.n += n
			if done, err := c.headers(); done || err != nil {
				if err == nil && !statusOK(c.job.status, c.code) {
					err = fmt.Errorf("GET %s: HTTP status %d not in %s", c.job.url, c.code, rangesString(c.job.status))
				}
				l.finish(c, err, false)
				return
			}
		}
	}
}

// headers parses what buf holds: the status line, then header lines up to
// the blank one. It reports whether the headers ended, and keeps in buf
// only what is still to be parsed.
func (c *evConn) headers() (bool, error) {
	for {
		i := bytes.IndexByte(c.buf[:c.n], '\n')
		if i < 0 {
			if c.n == len(c.buf) { // a long line: drop it, remember we are inside one
				if c.code == 0 {
					return false, fmt.Errorf("GET %s: %s: status line longer than %d bytes", c.job.url, c.phase, len(c.buf))
				}
				c.n, c.tail = 0, true
			}
			return false, nil
		}
		line := c.buf[:i+1]
		switch {
		case c.code == 0:
			code, err := parseStatusLine(line)
			if err != nil {
				return false, fmt.Errorf("GET %s: %s: %w", c.job.url, c.phase, err)
			}
			c.code = code
		case !c.tail && (len(line) == 1 || len(line) == 2 && line[0] == '\r'):
			return true, nil
		}
		c.tail = false
		c.n = copy(c.buf[:], c.buf[i+1:c.n])
	}
}

func (l *evLoop) connectErr(c *evConn, err error) error {
	return netErr(nil, "connect", c.job.target.String(), c.job.timeout, err)
}

func (l *evLoop) timeoutErr(c *evConn) error {
	if c.job.request == nil {
		return timeoutf("connect %s: timeout after %s", c.job.target, c.job.timeout)
	}
	return timeoutf("GET %s: timeout after %s %s", c.job.url, c.job.timeout, c.phase)
}

// finish closes c's socket and reports its result.
func (l *evLoop) finish(c *evConn, err error, cancelled bool) {
	delete(l.conns, int32(c.fd))
	l.done(c, err, cancelled)
	l.release(c)
}

// report ends a check that never reached epoll.
func (l *evLoop) report(c *evConn, err error, cancelled bool) {
	l.done(c, err, cancelled)
	l.release(c)
}

func (l *evLoop) release(c *evConn) {
	if c.fd >= 0 {
		unix.Close(c.fd) // also leaves the epoll set
	}
	c.p = nil
	l.mu.Lock()
	l.free = append(l.free, c)
	l.mu.Unlock()
}
