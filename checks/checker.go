package checks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// Checker probes one real server once. A nil error means the server passed;
// otherwise the error says why it failed, in words fit for a log line.
type Checker interface {
	Check(ctx context.Context) error
}

// New builds the checker a spec describes. It does no I/O. Each checker
// applies the spec's Timeout to every Check on top of ctx.
func New(spec Spec) (Checker, error) {
	spec = spec.WithDefaults()
	if !spec.Target.IsValid() && spec.Kind != KindScript {
		return nil, fmt.Errorf("building %s check: no target address", spec.Kind)
	}
	switch spec.Kind {
	case KindTCP:
		return &tcpChecker{spec: &spec, target: spec.Target}, nil
	case KindHTTP, KindHTTPS:
		return newHTTPChecker(&shape{spec: spec}, spec.Target)
	case KindScript:
		return newScriptChecker(spec)
	case KindUDP:
		return newUDPChecker(spec)
	case KindDNS:
		return newDNSChecker(spec)
	case KindPing:
		return &pingChecker{spec: spec}, nil
	case KindSMTP:
		return newSMTPChecker(spec)
	}
	return nil, fmt.Errorf("building check: invalid kind %s", spec.Kind)
}

// newShaped builds the checker of target checked as sh says, as New does,
// sharing with the other checkers of sh what does not depend on the
// target: a TCP checker is then a pointer and an address, an HTTP one
// shares its TLS configuration, regex and dialer.
func newShaped(sh *shape, target netip.AddrPort) (Checker, error) {
	spec := &sh.spec
	if !target.IsValid() && spec.Kind != KindScript {
		return nil, fmt.Errorf("building %s check: no target address", spec.Kind)
	}
	switch spec.Kind {
	case KindHTTP, KindHTTPS:
		return newHTTPChecker(sh, target)
	}
	s := *spec
	s.Target = target
	return New(s)
}

// CheckerFunc adapts a function to the Checker interface.
type CheckerFunc func(ctx context.Context) error

// Check calls f(ctx).
func (f CheckerFunc) Check(ctx context.Context) error { return f(ctx) }

// withTimeout bounds ctx by d, unless its deadline is already that close
// (as the scheduler's is), and returns the context and its cancel.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// ErrTimeout is matched (errors.Is) by a check error saying that the
// check's own deadline passed: no answer in time, as opposed to an answer
// or a refusal from the server. The scheduler discards such a result when
// the checker itself was stalled while the check ran.
var ErrTimeout = errors.New("check timed out")

// timeoutError is a check error worded for the log that matches ErrTimeout.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string        { return e.msg }
func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }

func timeoutf(format string, a ...any) error {
	return &timeoutError{msg: fmt.Sprintf(format, a...)}
}

// netErr turns a network error into "OP ADDR: reason", replacing Go's
// layered wording ("dial tcp 1.2.3.4:80: connect: connection refused") by
// the operation and the kernel's reason, and a deadline by "timeout after D".
func netErr(ctx context.Context, op, addr string, timeout time.Duration, err error) error {
	if err == nil {
		return nil
	}
	if isTimeout(ctx, err) {
		return timeoutf("%s %s: timeout after %s", op, addr, timeout)
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return fmt.Errorf("%s %s: %w", op, addr, errno)
	}
	return fmt.Errorf("%s %s: %w", op, addr, err)
}

// isTimeout reports whether err comes from a deadline, of ctx or a socket.
func isTimeout(ctx context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	if ctx != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dialer returns a net.Dialer bound to the spec's source address, if any.
func dialer(spec *Spec, network string) *net.Dialer {
	d := &net.Dialer{KeepAlive: -1}
	if spec.BindIf != "" {
		d.Control = bindToDevice(spec.BindIf)
	}
	if spec.Source.IsValid() {
		switch network {
		case "tcp":
			d.LocalAddr = &net.TCPAddr{IP: spec.Source.AsSlice()}
		case "udp":
			d.LocalAddr = &net.UDPAddr{IP: spec.Source.AsSlice()}
		}
	}
	return d
}

// dialTarget connects to the spec's target over network ("tcp" or "udp")
// with the spec's source and device. It returns the target's address for
// messages; a failure is reported by netErr under op.
func dialTarget(ctx context.Context, spec *Spec, target netip.AddrPort, network, op string) (net.Conn, string, error) {
	addr := target.String()
	conn, err := dialer(spec, network).DialContext(ctx, network, addr)
	if err != nil {
		return nil, addr, netErr(ctx, op, addr, spec.Timeout, err)
	}
	return conn, addr, nil
}

// tcpProbe is a probe as its own TCP checker: with tens of thousands of
// TCP checks, a checker each (a pointer and an address) was another 48
// bytes per probe. It reads only the probe's shape and target, which never
// change.
type tcpProbe probe

func (p *tcpProbe) Check(ctx context.Context) error {
	return tcpConnect(ctx, &p.shape.spec, p.target)
}

// tcpChecker passes when a TCP connection to the target is established.
// Its settings are shared with the other checks of its shape.
type tcpChecker struct {
	spec   *Spec // Target is not read
	target netip.AddrPort
}

func (c *tcpChecker) Check(ctx context.Context) error { return tcpConnect(ctx, c.spec, c.target) }

// tcpConnect connects to target as spec says and closes the connection.
func tcpConnect(ctx context.Context, spec *Spec, target netip.AddrPort) error {
	ctx, cancel := withTimeout(ctx, spec.Timeout)
	defer cancel()
	conn, _, err := dialTarget(ctx, spec, target, "tcp", "connect")
	if err != nil {
		return err
	}
	// Linger 0 sends RST: the check leaves no TIME_WAIT socket behind.
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
	return nil
}
