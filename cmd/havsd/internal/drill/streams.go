package drill

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Established connections across a failover: a new connection works at
// once after a VIP moves, but one the old master carried survives only if
// the new master's IPVS table knows it (connection sync). Streams holds N
// long-lived TCP connections through the VIP, each exchanging a small
// message every Gap, and reports which survived the event and the longest
// stall of each.

// StreamsConfig sets up the long-lived connections of a drill.
type StreamsConfig struct {
	Target Target        // tcp:// (the server echoes) or http:// (keep-alive GETs)
	N      int           // connections
	Gap    time.Duration // between exchanges on one connection
	// Deadline is how long one exchange may take before the stream counts
	// as broken (a stall past the failover); zero means 30 s.
	Deadline time.Duration
}

// Streams are the running connections; Stop ends them and reports.
type Streams struct {
	cfg    StreamsConfig
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	event  time.Time
	ss     []*stream
}

type stream struct {
	c        net.Conn
	mu       sync.Mutex
	last     time.Time // last completed exchange
	maxStall time.Duration
	after    int // exchanges completed after the event
	err      error
}

// StreamResult is one connection after the event.
type StreamResult struct {
	Survived bool          // no reset, no stall beyond the deadline, exchanging again after the event
	MaxStall time.Duration // longest time between two completed exchanges
	Err      error         // why it broke
}

// StreamsReport sums up the connections of one repetition.
type StreamsReport struct {
	Streams  []StreamResult
	Survived int
	MaxStall time.Duration // longest stall of any connection
}

// Line is the report in one line: "established connections survived:
// 20/20 (longest stall 310ms)".
func (r StreamsReport) Line() string {
	line := fmt.Sprintf("established connections survived: %d/%d (longest stall %v)", r.Survived, len(r.Streams), r.MaxStall.Round(time.Millisecond))
	for i, s := range r.Streams {
		if !s.Survived && s.Err != nil {
			return line + fmt.Sprintf("; e.g. connection %d: %v", i+1, s.Err)
		}
	}
	return line
}

// OpenStreams dials cfg.N connections from v (nil: here) and starts their
// exchanges.
func OpenStreams(ctx context.Context, v *Vantage, cfg StreamsConfig) (*Streams, error) {
	if cfg.N <= 0 || cfg.Gap <= 0 {
		return nil, errors.New("streams: N and the gap must be positive")
	}
	if cfg.Target.Scheme != "tcp" && cfg.Target.Scheme != "http" {
		return nil, fmt.Errorf("streams: a %s target has no connections; use tcp:// (an echo service) or http://", cfg.Target.Scheme)
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = 30 * time.Second
	}
	s := &Streams{cfg: cfg}
	err := v.Do(func() error {
		for range cfg.N {
			c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", cfg.Target.Addr.String())
			if err != nil {
				return err
			}
			s.ss = append(s.ss, &stream{c: c, last: time.Now()})
		}
		return nil
	})
	if err != nil {
		for _, st := range s.ss {
			st.c.Close()
		}
		return nil, fmt.Errorf("opening %d connections to %s: %w", cfg.N, cfg.Target.Addr, err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, st := range s.ss {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(rctx, st)
		}()
	}
	return s, nil
}

// Event marks the moment of the failover: only exchanges after it count
// as surviving.
func (s *Streams) Event(at time.Time) {
	s.mu.Lock()
	s.event = at
	s.mu.Unlock()
}

// Progress counts the streams that have completed at least k exchanges
// since the event, and those that broke.
func (s *Streams) Progress(k int) (resumed, broken int) {
	for _, st := range s.ss {
		st.mu.Lock()
		if st.err != nil {
			broken++
		} else if st.after >= k {
			resumed++
		}
		st.mu.Unlock()
	}
	return resumed, broken
}

// Stop ends the exchanges, closes the connections and reports.
func (s *Streams) Stop() StreamsReport {
	s.cancel()
	for _, st := range s.ss {
		st.c.SetDeadline(time.Now()) // unblocks a stalled exchange
	}
	s.wg.Wait()
	var r StreamsReport
	for _, st := range s.ss {
		st.c.Close()
		res := StreamResult{MaxStall: st.maxStall, Err: st.err, Survived: st.err == nil && st.after > 0}
		if res.Survived {
			r.Survived++
		}
		r.MaxStall = max(r.MaxStall, st.maxStall)
		r.Streams = append(r.Streams, res)
	}
	return r
}

func (s *Streams) run(ctx context.Context, st *stream) {
	exchange := s.echo
	if s.cfg.Target.Scheme == "http" {
		exchange = s.httpGet(st.c)
	}
	for seq := uint64(1); ; seq++ {
		st.c.SetDeadline(time.Now().Add(s.cfg.Deadline))
		err := exchange(st.c, seq)
		if ctx.Err() != nil {
			return // stopped: an error now is ours
		}
		now := time.Now()
		s.mu.Lock()
		afterEvent := !s.event.IsZero() && now.After(s.event)
		s.mu.Unlock()
		st.mu.Lock()
		if err != nil {
			st.err = err
			st.mu.Unlock()
			return
		}
		st.maxStall = max(st.maxStall, now.Sub(st.last))
		st.last = now
		if afterEvent {
			st.after++
		}
		st.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.Gap):
		}
	}
}

// echo sends 8 bytes and expects them back.
func (s *Streams) echo(c net.Conn, seq uint64) error {
	var out, in [8]byte
	binary.BigEndian.PutUint64(out[:], seq)
	if _, err := c.Write(out[:]); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, in[:]); err != nil {
		return err
	}
	if in != out {
		return fmt.Errorf("echo %x for %x", in, out)
	}
	return nil
}

// httpGet returns an exchange that sends a keep-alive GET of the target's
// URL on c and reads the whole answer.
func (s *Streams) httpGet(c net.Conn) func(net.Conn, uint64) error {
	br := bufio.NewReader(c)
	u, _ := url.Parse(s.cfg.Target.URL)
	return func(c net.Conn, _ uint64) error {
		req := &http.Request{Method: "GET", URL: u, Host: u.Host, Header: http.Header{}, ProtoMajor: 1, ProtoMinor: 1}
		if err := req.Write(c); err != nil {
			return err
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Close {
			return errors.New("the server closed the keep-alive connection")
		}
		return err
	}
}

// WithStreams wraps ev so that each repetition opens the streams once a
// master is steady, marks the event, and reports them (through report)
// before the event is undone.
func WithStreams(ev Event, v *Vantage, cfg StreamsConfig, report func(StreamsReport)) Event {
	var cur *Streams
	out := ev
	out.Ready = func(ctx context.Context) (string, error) {
		master, err := ev.Ready(ctx)
		if err != nil {
			return master, err
		}
		if cur, err = OpenStreams(ctx, v, cfg); err != nil {
			return master, err
		}
		return master, nil
	}
	out.Trigger = func(ctx context.Context, master string) error {
		cur.Event(time.Now())
		return ev.Trigger(ctx, master)
	}
	out.Restore = func(ctx context.Context) error {
		if cur != nil {
			report(cur.Stop())
			cur = nil
		}
		if ev.Restore != nil {
			return ev.Restore(ctx)
		}
		return nil
	}
	return out
}

// SurvivedAll reports whether every stream of every report survived.
func SurvivedAll(rs []StreamsReport) bool {
	return !slices.ContainsFunc(rs, func(r StreamsReport) bool { return r.Survived != len(r.Streams) })
}
