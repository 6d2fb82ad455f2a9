package drill

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
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

// dial connects to the probed address from the vantage.
func (p *tcpProber) dial(ctx context.Context) (net.Conn, error) {
	return p.v.DialTCP(ctx, netip.Addr{}, p.addr)
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
