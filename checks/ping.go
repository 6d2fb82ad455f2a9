package checks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"syscall"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// pingChecker sends one ICMP echo request and waits for the matching reply.
// It uses an unprivileged ping socket ("udp4"/"udp6") where
// net.ipv4.ping_group_range allows it, else a raw ICMP socket (needs root or
// CAP_NET_RAW).
type pingChecker struct{ spec Spec }

func (c *pingChecker) Check(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx, c.spec.Timeout)
	defer cancel()
	dst := c.spec.Target.Addr().Unmap()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ping %s: %w", dst, err)
	}
	v6 := dst.Is6()
	conn, dgram, err := listenICMP(v6, c.spec)
	if err != nil {
		return fmt.Errorf("ping %s: %w", dst, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	id, seq := int(rand.Uint32()&0xffff), int(rand.Uint32()&0xffff)
	var typ, replyType icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	proto := 1
	if v6 {
		typ, replyType, proto = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("havsd-check")}}
	pkt, err := msg.Marshal(nil)
	if err != nil {
		return fmt.Errorf("ping %s: %w", dst, err)
	}
	var to net.Addr = &net.IPAddr{IP: dst.AsSlice()}
	if dgram {
		to = &net.UDPAddr{IP: dst.AsSlice()}
	}
	if _, err := conn.WriteTo(pkt, to); err != nil {
		return netErr(ctx, "ping", dst.String(), c.spec.Timeout, err)
	}
	buf := make([]byte, 1500)
	for {
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			if isTimeout(ctx, err) || ctx.Err() != nil {
				return timeoutf("ping %s: no echo reply within %s", dst, c.spec.Timeout)
			}
			return netErr(ctx, "ping", dst.String(), c.spec.Timeout, err)
		}
		if !samePeer(peer, dst.AsSlice()) {
			continue
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != replyType {
			continue
		}
		echo, ok := m.Body.(*icmp.Echo)
		// A ping socket rewrites the ID to its own port: match on seq only.
		if !ok || echo.Seq != seq || (!dgram && echo.ID != id) {
			continue
		}
		return nil
	}
}

func samePeer(a net.Addr, ip net.IP) bool {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.IP.Equal(ip)
	case *net.IPAddr:
		return a.IP.Equal(ip)
	}
	return false
}

// listenICMP opens a ping socket, falling back to a raw socket when the
// kernel refuses the unprivileged kind. dgram reports which one it got.
func listenICMP(v6 bool, spec Spec) (conn *icmp.PacketConn, dgram bool, err error) {
	network, raw, src := "udp4", "ip4:icmp", "0.0.0.0"
	if v6 {
		network, raw, src = "udp6", "ip6:ipv6-icmp", "::"
	}
	if spec.Source.IsValid() {
		src = spec.Source.String()
	}
	conn, err = icmp.ListenPacket(network, src)
	if err == nil {
		return conn, true, nil
	}
	if !errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.EPERM) && !errors.Is(err, os.ErrPermission) {
		return nil, false, fmt.Errorf("opening ping socket: %w", err)
	}
	conn, rerr := icmp.ListenPacket(raw, src)
	if rerr != nil {
		return nil, false, fmt.Errorf("opening ping socket: %v; raw socket: %w", err, rerr)
	}
	return conn, false, nil
}
