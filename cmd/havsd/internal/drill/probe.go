package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Prober performs one probe; nil means the target answered.
type Prober interface {
	Probe(ctx context.Context) error
	Close() error
}

// Target is a parsed probe target: icmp://ADDR, tcp://ADDR:PORT or an
// http:// URL.
type Target struct {
	Scheme string
	Addr   netip.AddrPort // port zero for icmp
	URL    string         // http only
}

// ParseTarget parses a probe target.
func ParseTarget(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Target{}, fmt.Errorf("parsing target %q: %w", s, err)
	}
	t := Target{Scheme: u.Scheme}
	switch u.Scheme {
	case "icmp":
		a, err := netip.ParseAddr(u.Host)
		if err != nil {
			return t, fmt.Errorf("parsing target %q: want icmp://ADDRESS: %w", s, err)
		}
		t.Addr = netip.AddrPortFrom(a, 0)
	case "tcp":
		ap, err := netip.ParseAddrPort(u.Host)
		if err != nil {
			return t, fmt.Errorf("parsing target %q: want tcp://ADDRESS:PORT: %w", s, err)
		}
		t.Addr = ap
	case "http":
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = "80"
		}
		ap, err := netip.ParseAddrPort(net.JoinHostPort(host, port))
		if err != nil {
			return t, fmt.Errorf("parsing target %q: want http://ADDRESS[:PORT]/PATH: %w", s, err)
		}
		t.Addr, t.URL = ap, s
	default:
		return t, fmt.Errorf("parsing target %q: scheme must be icmp, tcp or http", s)
	}
	if !t.Addr.Addr().Is4() {
		return t, fmt.Errorf("parsing target %q: only IPv4 targets are supported", s)
	}
	return t, nil
}

func (t Target) String() string {
	switch t.Scheme {
	case "icmp":
		return "icmp://" + t.Addr.Addr().String()
	case "tcp":
		return "tcp://" + t.Addr.String()
	}
	return t.URL
}

// NewProber returns a prober for t whose sockets are opened in v's namespace.
func NewProber(t Target, v *Vantage) (Prober, error) {
	switch t.Scheme {
	case "tcp":
		return &tcpProber{addr: t.Addr, v: v}, nil
	case "http":
		d := &tcpProber{addr: t.Addr, v: v}
		tr := &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.dial(ctx)
			},
		}
		return &httpProber{url: t.URL, client: &http.Client{Transport: tr}}, nil
	case "icmp":
		return newICMPProber(t.Addr.Addr(), v)
	}
	return nil, fmt.Errorf("no prober for scheme %q", t.Scheme)
}

type tcpProber struct {
	addr netip.AddrPort
	v    *Vantage
}

func (p *tcpProber) Probe(ctx context.Context) error {
	c, err := p.dial(ctx)
	if err != nil {
		return err
	}
	return c.Close()
}

func (p *tcpProber) Close() error { return nil }

// dial opens a socket in the vantage namespace, then connects it from the
// calling goroutine, waiting in the runtime poller.
func (p *tcpProber) dial(ctx context.Context) (net.Conn, error) {
	var fd int
	err := p.v.Do(func() (err error) {
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening socket: %w", err)
	}
	sa := &unix.SockaddrInet4{Port: int(p.addr.Port()), Addr: p.addr.Addr().As4()}
	if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		return nil, fmt.Errorf("connecting to %s: %w", p.addr, err)
	}
	f := os.NewFile(uintptr(fd), "probe")
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
		if _, err := unix.Getpeername(int(fd)); errors.Is(err, unix.ENOTCONN) {
			return false // still connecting: wait for writability
		}
		return true
	})
	if werr != nil {
		return nil, fmt.Errorf("connecting to %s: %w", p.addr, werr)
	}
	if cerr != nil {
		return nil, fmt.Errorf("connecting to %s: %w", p.addr, cerr)
	}
	_ = f.SetWriteDeadline(time.Time{})
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", p.addr, err)
	}
	return c, nil
}

type httpProber struct {
	url    string
	client *http.Client
}

func (p *httpProber) Probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("GET %s: %s", p.url, strings.TrimSpace(resp.Status))
	}
	return nil
}

func (p *httpProber) Close() error { return nil }

// HTTPGet fetches url from v's namespace and returns the body (at most 4 KiB).
func HTTPGet(ctx context.Context, v *Vantage, rawURL string) (string, error) {
	t, err := ParseTarget(rawURL)
	if err != nil {
		return "", err
	}
	d := &tcpProber{addr: t.Addr, v: v}
	c := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return d.dial(ctx) },
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return string(b), err
}
