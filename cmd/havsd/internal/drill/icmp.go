package drill

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// icmpProber sends echo requests on one raw socket and matches the replies
// by identifier and sequence number.
type icmpProber struct {
	conn net.PacketConn
	dst  *net.IPAddr
	id   int

	mu      sync.Mutex
	seq     uint16
	waiting map[uint16]chan struct{}
}

func newICMPProber(dst netip.Addr, v *Vantage) (*icmpProber, error) {
	var fd int
	err := v.Do(func() (err error) {
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening ICMP socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "icmp")
	conn, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("opening ICMP socket: %w", err)
	}
	p := &icmpProber{
		conn:    conn,
		dst:     &net.IPAddr{IP: dst.AsSlice()},
		id:      rand.IntN(0xffff),
		waiting: map[uint16]chan struct{}{},
	}
	go p.read()
	return p, nil
}

func (p *icmpProber) read() {
	b := make([]byte, 1500)
	for {
		n, _, err := p.conn.ReadFrom(b)
		if err != nil {
			return
		}
		pkt := b[:n]
		// A raw IPv4 socket hands over the IP header too.
		if len(pkt) > 0 && pkt[0]>>4 == 4 {
			hl := int(pkt[0]&0x0f) * 4
			if hl > len(pkt) {
				continue
			}
			pkt = pkt[hl:]
		}
		m, err := icmp.ParseMessage(1, pkt)
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		e, ok := m.Body.(*icmp.Echo)
		if !ok || e.ID != p.id {
			continue
		}
		p.mu.Lock()
		if c, ok := p.waiting[uint16(e.Seq)]; ok {
			close(c)
			delete(p.waiting, uint16(e.Seq))
		}
		p.mu.Unlock()
	}
}

func (p *icmpProber) Probe(ctx context.Context) error {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	c := make(chan struct{})
	p.waiting[seq] = c
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.waiting, seq)
		p.mu.Unlock()
	}()
	m := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: p.id, Seq: int(seq), Data: []byte("havsd-drill")}}
	b, err := m.Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := p.conn.WriteTo(b, p.dst); err != nil {
		return fmt.Errorf("sending echo to %s: %w", p.dst, err)
	}
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("echo %d to %s: %w", seq, p.dst, ctx.Err())
	}
}

func (p *icmpProber) Close() error { return p.conn.Close() }
