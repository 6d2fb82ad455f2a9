package bgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// reconcileEvery is how often the owner re-reads GoBGP's RIB and repairs it
// even when nothing was asked.
const reconcileEvery = 5 * time.Second

// statusWait bounds how long Status waits for the owner before it answers
// with the last snapshot.
const statusWait = 2 * time.Second

// Speaker is an embedded BGP speaker announcing a wanted set of routes.
// Create it with New, start it with Run (once); the other methods are safe
// from any goroutine.
type Speaker struct {
	log *slog.Logger

	mu      sync.Mutex
	pending []Route // latest SetRoutes, taken by the owner
	fresh   bool    // pending not yet taken
	initial Config  // the configuration Run starts with

	kick      chan struct{} // buffered(1): pending changed
	reconf    chan reconfReq
	statusReq chan chan Status
	events    chan event // from GoBGP's watcher and log records

	started atomic.Bool
	done    chan struct{} // closed when Run returns
	last    atomic.Pointer[Status]
}

type reconfReq struct {
	cfg   Config
	reply chan error
}

// New checks cfg and returns a speaker. It does no I/O and starts nothing.
func New(cfg Config, log *slog.Logger) (*Speaker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bgp configuration: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Speaker{
		log:       log.With("component", "bgp"),
		initial:   cloneConfig(cfg),
		kick:      make(chan struct{}, 1),
		reconf:    make(chan reconfReq),
		statusReq: make(chan chan Status),
		events:    make(chan event, 256),
		done:      make(chan struct{}),
	}
	st := configStatus(cfg, "")
	s.last.Store(&st)
	return s, nil
}

// SetRoutes replaces the wanted set of routes. It never blocks on the
// network: the owner applies the latest set as soon as it can.
func (s *Speaker) SetRoutes(rs []Route) {
	s.mu.Lock()
	s.pending = slices.Clone(rs)
	s.fresh = true
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Speaker) takeRoutes() ([]Route, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.pending, s.fresh
	s.fresh = false
	return rs, ok
}

// Reconfigure applies a new configuration: neighbours added, removed or
// changed are handled one by one, a new community list re-announces the
// routes, and a new ASN, router id or listen port restarts the speaker's
// sessions. An invalid configuration changes nothing.
func (s *Speaker) Reconfigure(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("bgp configuration: %w", err)
	}
	cfg = cloneConfig(cfg)
	if !s.started.Load() {
		s.mu.Lock()
		s.initial = cfg
		s.mu.Unlock()
		st := configStatus(cfg, "")
		s.last.Store(&st)
		return nil
	}
	req := reconfReq{cfg: cfg, reply: make(chan error, 1)}
	select {
	case s.reconf <- req:
		return <-req.reply
	case <-s.done:
		return errors.New("bgp speaker has stopped")
	}
}

// Status reports the speaker as GoBGP has it: each neighbour's session
// state, uptime, counters and last error, and the routes in GoBGP's local
// RIB. Before Run and after it ends, neighbours show as idle.
func (s *Speaker) Status() Status {
	if !s.started.Load() {
		return s.last.Load().clone()
	}
	reply := make(chan Status, 1)
	t := time.NewTimer(statusWait)
	defer t.Stop()
	select {
	case s.statusReq <- reply:
		st := <-reply
		st.Running = true
		return st
	case <-s.done:
		return s.last.Load().clone()
	case <-t.C:
	}
	st := s.last.Load().clone() // running, but slow to answer
	st.Running = true
	return st
}

// Run starts GoBGP, peers with the neighbours and keeps GoBGP's RIB equal to
// the wanted routes until ctx ends; then it closes the sessions (which
// withdraws every route at the neighbours) and stops GoBGP. It returns an
// error only if GoBGP cannot start (for example the listen port is taken);
// neighbours that fail are reported in Status, not here.
func (s *Speaker) Run(ctx context.Context) error {
	if s.started.Swap(true) {
		return errors.New("bgp speaker: Run called twice")
	}
	defer close(s.done)
	s.mu.Lock()
	cfg := s.initial
	s.mu.Unlock()

	o := newOwner(s, cfg)
	err := o.start(ctx)
	if err == nil {
		o.loop(ctx)
	}
	o.stop()
	st := configStatus(o.cfg, "speaker stopped")
	if err != nil {
		st = configStatus(o.cfg, err.Error())
	}
	s.last.Store(&st)
	return err
}

// event is something GoBGP reported about a neighbour.
type event struct {
	addr    netip.Addr
	state   string // "" for a connection error only
	reason  string
	connErr string
}

func (s *Speaker) post(ctx context.Context, ev event, wait bool) {
	if !wait {
		select {
		case s.events <- ev:
		default: // connection errors repeat; dropping one loses nothing
		}
		return
	}
	select {
	case s.events <- ev:
	case <-ctx.Done():
	}
}

func cloneConfig(c Config) Config {
	c.Communities = slices.Clone(c.Communities)
	c.Neighbors = slices.Clone(c.Neighbors)
	return c
}
