package vrrp

import (
	"fmt"
	"slices"
	"sync"
)

// maxAdvert is the largest valid advert: 255 IPv6 addresses (v3).
const maxAdvert = 4096

// datagrams recycles the copies of received datagrams between the socket
// reader and the loop, which releases each after handling it: no
// allocation per advert.
var datagrams = sync.Pool{New: func() any { return new([maxAdvert]byte) }}

// pooledCopy copies a received datagram into a pooled buffer; one too long
// to be an advert gets a buffer of its own.
func pooledCopy(b []byte) []byte {
	if len(b) > maxAdvert {
		return append([]byte(nil), b...)
	}
	p := datagrams.Get().(*[maxAdvert]byte)
	return append(p[:0], b...)
}

// release returns a datagram's buffer to the pool; d.Data must not be used
// afterwards.
func release(d Datagram) {
	if cap(d.Data) == maxAdvert {
		datagrams.Put((*[maxAdvert]byte)(d.Data[:maxAdvert]))
	}
}

// sock is the loop's socket: open while the instance can work, nil with
// the reason while it cannot (no interface, no primary address, lost).
type sock struct {
	inj   Conn // Options.Conn: used once, never re-opened
	used  bool
	conn  Conn
	index int    // interface index the socket is bound to (0: unknown)
	why   string // why there is no socket
	gen   int    // bumped per socket, so a stale reader's error is ignored
	// filtered are the sibling VRIDs the socket's kernel filter discards
	// (nil: no filter yet).
	filtered []uint8
	rx       chan Datagram
	rxErr    chan sockErr
	quit     chan struct{}
	readers  sync.WaitGroup
	// fast: the loop reads the socket itself, woken by its event loop
	// (evloop_linux.go); else a reader goroutine feeds rx.
	fast bool
	buf  []byte // the loop's read buffer when fast
}

// pollConn is a Conn the loop can read itself without waiting, woken by
// its event loop when the descriptor is readable (RawConn on Linux).
type pollConn interface {
	Conn
	sysfd() (int, error)
	readNow(b []byte) (d Datagram, ok bool, err error)
}

type sockErr struct {
	gen int
	err error
}

func (s *sock) init(i *Instance) {
	s.inj = i.opts.Conn
	s.rx, s.rxErr = make(chan Datagram, 256), make(chan sockErr, 1)
	s.why = "socket not open yet"
}

// open opens the socket if there is none; on failure it records why.
func (s *sock) open(l *loop) {
	if s.conn != nil {
		return
	}
	var c Conn
	switch {
	case s.inj != nil && s.used:
		s.why = "injected connection closed"
		return
	case s.inj != nil:
		c, s.used = s.inj, true
	default:
		rc, err := Listen(l.cfg)
		if err != nil {
			if why := err.Error(); why != s.why {
				l.log.Warn("VRRP socket cannot be opened: FAULT until it can", "err", err)
				s.why = why
			}
			return
		}
		c = rc
	}
	s.conn, s.why, s.index, s.filtered = c, "", 0, nil
	if x, ok := c.(interface{ IfIndex() int }); ok {
		s.index = x.IfIndex()
	}
	l.local = c.LocalAddr()
	l.val = l.validator(l.cfg) // and the socket's VRID filter (filter)
	s.gen++
	s.quit = make(chan struct{})
	if s.watch(l, c) {
		return
	}
	s.readers.Add(1)
	go func(c Conn, gen int, quit <-chan struct{}) {
		defer s.readers.Done()
		read(c, gen, s.rx, s.rxErr, quit)
	}(c, s.gen, s.quit)
}

// watch puts a pollable socket in the loop's event loop, so that the loop
// reads it itself; false when it cannot (no event loop, another Conn).
func (s *sock) watch(l *loop, c Conn) bool {
	pc, ok := c.(pollConn)
	if l.ev == nil || !ok {
		return false
	}
	fd, err := pc.sysfd()
	if err == nil {
		err = l.ev.watch(fd)
	}
	if err != nil {
		l.log.Warn("VRRP socket: read by a goroutine of its own", "err", err)
		return false
	}
	if s.buf == nil {
		s.buf = make([]byte, 65536)
	}
	s.fast = true
	return true
}

// unwatch takes the socket out of the event loop before it is closed.
func (s *sock) unwatch(l *loop) {
	if s.fast {
		l.ev.unwatch()
		s.fast = false
	}
}

// filter makes the kernel discard the siblings' adverts on a real socket
// (RawConn.FilterSiblings), whenever the siblings change. Without the
// filter the validator still ignores them, at the cost of a wake-up each.
func (s *sock) filter(l *loop, own uint8, siblings []uint8) {
	rc, ok := s.conn.(*RawConn)
	if !ok || s.filtered != nil && slices.Equal(s.filtered, siblings) {
		return
	}
	if err := rc.FilterSiblings(own, siblings); err != nil {
		l.log.Warn("VRRP socket: siblings' adverts are filtered in user space", "err", err)
		return
	}
	s.filtered = append(make([]uint8, 0, len(siblings)), siblings...)
}

// lost closes the socket, recording why the instance has none.
func (s *sock) lost(l *loop, why string) {
	if s.conn == nil {
		return
	}
	l.log.Warn("VRRP socket closed", "reason", why)
	s.unwatch(l)
	close(s.quit)
	_ = s.conn.Close()
	s.conn, s.why = nil, why
}

// failed handles a reader's error: a real socket is closed and re-opened
// by the heartbeat (FAULT meanwhile); an injected one ends Run.
func (s *sock) failed(l *loop, e sockErr) error {
	if e.gen != s.gen || s.conn == nil {
		return nil
	}
	if s.inj != nil {
		return e.err
	}
	s.lost(l, fmt.Sprintf("socket error: %v", e.err))
	l.reportFault()
	l.step(Input{Kind: EvCheck})
	return nil
}

// close closes the socket and waits for its reader.
func (s *sock) close(l *loop) {
	s.unwatch(l)
	if s.conn != nil {
		close(s.quit)
		_ = s.conn.Close()
		s.conn = nil
	}
	s.readers.Wait()
}

func read(c Conn, gen int, rx chan<- Datagram, rxErr chan<- sockErr, quit <-chan struct{}) {
	buf := make([]byte, 65536)
	for {
		d, err := c.ReadFrom(buf)
		if err != nil {
			select {
			case rxErr <- sockErr{gen, err}:
			case <-quit:
			}
			return
		}
		d.Data = pooledCopy(d.Data)
		select {
		case rx <- d:
		case <-quit:
			return
		}
	}
}
