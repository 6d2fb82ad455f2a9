package checks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// udpChecker sends a payload to the target from a connected UDP socket.
// With ExpectReply any datagram back within the timeout means up. Without
// it, the check passes unless an ICMP port unreachable comes back within
// the timeout, as keepalived's UDP_CHECK does; such a check takes the whole
// timeout.
type udpChecker struct {
	spec Spec
	udp  UDPSpec
}

func newUDPChecker(spec Spec) (*udpChecker, error) {
	c := &udpChecker{spec: spec}
	if spec.UDP != nil {
		c.udp = *spec.UDP
	}
	return c, nil
}

func (c *udpChecker) Check(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx, c.spec.Timeout)
	defer cancel()
	conn, addr, err := dialTarget(ctx, &c.spec, c.spec.Target, "udp", "udp")
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := closeOnDone(ctx, conn)
	defer stop()
	if _, err := conn.Write(c.udp.Payload); err != nil {
		return udpErr(ctx, addr, c.spec.Timeout, "sending", err)
	}
	buf := make([]byte, 1500)
	_, err = conn.Read(buf)
	switch {
	case err == nil:
		return nil
	case !c.udp.ExpectReply && isTimeout(ctx, err) && !errors.Is(err, syscall.ECONNREFUSED):
		return nil
	case isTimeout(ctx, err):
		return timeoutf("udp %s: no reply within %s", addr, c.spec.Timeout)
	}
	return udpErr(ctx, addr, c.spec.Timeout, "reading", err)
}

func udpErr(ctx context.Context, addr string, timeout time.Duration, op string, err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("udp %s: ICMP port unreachable", addr)
	}
	return netErr(ctx, "udp "+op, addr, timeout, err)
}

// closeOnDone sets conn's deadline to ctx's and breaks a blocked read when
// ctx is cancelled early. The returned func releases the watcher.
func closeOnDone(ctx context.Context, conn net.Conn) func() bool {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	return context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
}
