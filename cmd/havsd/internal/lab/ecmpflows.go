package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/drill"
)

// The ECMP drill's traffic: HTTP requests from the client's many source
// addresses to the VIP. The responders answer with their node's name, so
// every request tells which director (or, with IPVS, which real server)
// the router's hash sent it to.

// dialFrom opens a TCP connection from src (any port) to dst inside the
// vantage's namespace, giving up after timeout.
func dialFrom(ctx context.Context, v *drill.Vantage, src netip.Addr, dst netip.AddrPort, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return v.DialTCP(ctx, src, dst)
}

// exchange sends one keep-alive GET on c and returns the body's first line.
func exchange(c net.Conn, r *bufio.Reader, host string, timeout time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return strings.TrimSpace(string(body)), nil
}

// Share sends n one-shot requests from the sources in turn (a new source
// port each time) and counts the answers by responder; failures count
// under "failed".
func Share(ctx context.Context, v *drill.Vantage, sources []netip.Addr, dst netip.AddrPort, n int) map[string]int {
	out := map[string]int{}
	var mu sync.Mutex
	jobs := make(chan netip.Addr)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for src := range jobs {
				name, err := oneShot(ctx, v, src, dst)
				mu.Lock()
				if err != nil {
					out["failed"]++
				} else {
					out[name]++
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		jobs <- sources[i%len(sources)]
	}
	close(jobs)
	wg.Wait()
	return out
}

func oneShot(ctx context.Context, v *drill.Vantage, src netip.Addr, dst netip.AddrPort) (string, error) {
	c, err := dialFrom(ctx, v, src, dst, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return exchange(c, bufio.NewReader(c), dst.Addr().String(), time.Second)
}

// FormatShare renders a share as "d1 34% (102), d2 ...".
func FormatShare(m map[string]int) string {
	total := 0
	names := make([]string, 0, len(m))
	for k, n := range m {
		total += n
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s %.0f%% (%d)", k, 100*float64(m[k])/float64(max(total, 1)), m[k]))
	}
	return strings.Join(parts, ", ")
}

// Flow is one long-lived keep-alive connection through the VIP.
type Flow struct {
	Src      netip.AddrPort
	Via      string    // who answered its first request
	Broken   error     // nil while it works
	BrokenAt time.Time // when it broke
	Moved    string    // a later answer from someone else (cannot happen on one TCP connection; counted as broken)
}

// Flows are long-lived connections exchanging a request every Gap.
type Flows struct {
	mu    sync.Mutex
	flows []*Flow
	stop  chan struct{}
	wg    sync.WaitGroup
}

// OpenFlows opens n connections from the sources in turn, each asking
// once who serves it, then keeps every one exchanging a request every gap
// until Stop. A connection that cannot be opened is an error.
func OpenFlows(ctx context.Context, v *drill.Vantage, sources []netip.Addr, dst netip.AddrPort, n int, gap time.Duration) (*Flows, error) {
	fs := &Flows{stop: make(chan struct{})}
	for i := 0; i < n; i++ {
		c, err := dialFrom(ctx, v, sources[i%len(sources)], dst, time.Second)
		if err != nil {
			fs.Stop()
			return nil, fmt.Errorf("opening long-lived connection %d: %w", i+1, err)
		}
		r := bufio.NewReader(c)
		via, err := exchange(c, r, dst.Addr().String(), time.Second)
		if err != nil {
			c.Close()
			fs.Stop()
			return nil, fmt.Errorf("first request on long-lived connection %d: %w", i+1, err)
		}
		f := &Flow{Src: netip.MustParseAddrPort(c.LocalAddr().String()), Via: via}
		fs.flows = append(fs.flows, f)
		fs.wg.Add(1)
		go fs.run(f, c, r, dst.Addr().String(), gap)
	}
	return fs, nil
}

func (fs *Flows) run(f *Flow, c net.Conn, r *bufio.Reader, host string, gap time.Duration) {
	defer fs.wg.Done()
	defer c.Close()
	t := time.NewTicker(gap)
	defer t.Stop()
	for {
		select {
		case <-fs.stop:
			return
		case <-t.C:
		}
		// A stall up to the deadline is tolerated (the router may have
		// moved the flow to a director that answers it, or the old one
		// comes back); a reset or a longer silence breaks it.
		via, err := exchange(c, r, host, 3*time.Second)
		if err == nil && via != f.Via {
			err = fmt.Errorf("answered by %s, opened through %s", via, f.Via)
		}
		if err != nil {
			fs.mu.Lock()
			f.Broken, f.BrokenAt = err, time.Now()
			fs.mu.Unlock()
			return
		}
	}
}

// Stop ends every connection and returns the flows.
func (fs *Flows) Stop() []Flow {
	select {
	case <-fs.stop:
	default:
		close(fs.stop)
	}
	fs.wg.Wait()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Flow, len(fs.flows))
	for i, f := range fs.flows {
		out[i] = *f
	}
	return out
}

// Broken counts the flows broken so far.
func (fs *Flows) Broken() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for _, f := range fs.flows {
		if f.Broken != nil {
			n++
		}
	}
	return n
}

// FlowCount is how many flows went through one director and how many of
// them broke.
type FlowCount struct{ Flows, Broken int }

// CountFlows groups flows by who served them.
func CountFlows(fl []Flow) map[string]FlowCount {
	m := map[string]FlowCount{}
	for _, f := range fl {
		c := m[f.Via]
		c.Flows++
		if f.Broken != nil {
			c.Broken++
		}
		m[f.Via] = c
	}
	return m
}

// ErrNoFlows is returned when a drill has no long-lived connections.
var ErrNoFlows = errors.New("no long-lived connections")

// Probes open a new connection to the VIP every interval, from the client's
// source addresses in turn, each with its own timeout, and record when
// each was sent and whether it connected.
type Probes struct {
	mu      sync.Mutex
	samples []drill.Sample
	stop    chan struct{}
	wg      sync.WaitGroup
}

// StartProbes starts probing.
func StartProbes(ctx context.Context, v *drill.Vantage, sources []netip.Addr, dst netip.AddrPort, interval, timeout time.Duration) *Probes {
	p := &Probes{stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for k := 0; ; k++ {
			select {
			case <-p.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			src := sources[k%len(sources)]
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				sent := time.Now()
				c, err := dialFrom(ctx, v, src, dst, timeout)
				if err == nil {
					c.Close()
				}
				p.mu.Lock()
				p.samples = append(p.samples, drill.Sample{Sent: sent, Done: time.Now(), OK: err == nil})
				p.mu.Unlock()
			}()
		}
	}()
	return p
}

// Stop ends the probing and returns the samples in the order sent.
func (p *Probes) Stop() []drill.Sample {
	close(p.stop)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	sort.Slice(p.samples, func(i, j int) bool { return p.samples[i].Sent.Before(p.samples[j].Sent) })
	return p.samples
}
