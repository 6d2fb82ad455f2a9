package track

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/havsd/havsd/internal/clock"
)

// Set runs the trackers of a configuration and keeps their latest states.
// Apply starts, keeps or replaces trackers as the configuration changes: an
// unchanged tracker keeps running with its state.
type Set struct {
	log *slog.Logger
	out chan<- State
	// ScanInterval is how often track_process scans /proc for new
	// processes (default DefaultScanInterval).
	ScanInterval time.Duration
	// Clock times the runners (nil: the wall clock).
	Clock clock.Clock

	stateMu sync.Mutex // guards states; runners take it to report
	states  map[Key]State

	mu      sync.Mutex       // serialises Apply
	running map[Key]*running // scripts and files
	procs   *running         // every track_process, one scan
	spec    Spec
}

type running struct {
	cancel context.CancelFunc
	done   chan struct{}
	spec   any
}

// NewSet returns a set that reports every new state on out (which should be
// buffered; a send waits for the reader or for the tracker to stop). It does
// no I/O and starts nothing.
func NewSet(log *slog.Logger, out chan<- State) *Set {
	if log == nil {
		log = slog.Default()
	}
	return &Set{log: log.With("component", "track"), out: out, states: map[Key]State{}, running: map[Key]*running{}}
}

// States returns a copy of the latest states.
func (s *Set) States() map[Key]State {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return maps.Clone(s.states)
}

// Apply makes spec the running set of trackers under ctx.
func (s *Set) Apply(ctx context.Context, spec Spec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[Key]any{}
	for _, x := range spec.Scripts {
		want[Key{KindScript, x.Name}] = x
	}
	for _, x := range spec.Files {
		want[Key{KindFile, x.Name}] = x
	}
	for k, r := range s.running {
		if w, ok := want[k]; !ok || !sameSpec(w, r.spec) {
			s.stopLocked(k, r)
		}
	}
	for k, w := range want {
		if _, ok := s.running[k]; ok {
			continue
		}
		switch x := w.(type) {
		case Script:
			s.running[k] = s.start(ctx, x, func(ctx context.Context, emit func(State)) { runScript(ctx, x, clock.OrReal(s.Clock), s.log, emit) })
		case File:
			s.running[k] = s.start(ctx, x, func(ctx context.Context, emit func(State)) { runFile(ctx, x, clock.OrReal(s.Clock), s.log, emit) })
		}
	}
	if s.procs == nil || !slices.Equal(s.procs.spec.([]Process), spec.Processes) {
		if s.procs != nil {
			s.procs.cancel()
			<-s.procs.done
			s.procs = nil
			s.stateMu.Lock()
			for k := range s.states {
				if k.Kind == KindProcess {
					delete(s.states, k)
				}
			}
			s.stateMu.Unlock()
		}
		if len(spec.Processes) > 0 {
			ps := slices.Clone(spec.Processes)
			scan, clk := s.ScanInterval, clock.OrReal(s.Clock)
			s.procs = s.start(ctx, ps, func(ctx context.Context, emit func(State)) { runProcesses(ctx, ps, scan, clk, s.log, emit) })
		}
	}
	s.spec = spec
}

func sameSpec(a, b any) bool {
	switch x := a.(type) {
	case Script:
		y, ok := b.(Script)
		return ok && x.Equal(y)
	case File:
		y, ok := b.(File)
		return ok && x == y
	}
	return false
}

// stopLocked stops one tracker and forgets its state.
func (s *Set) stopLocked(k Key, r *running) {
	r.cancel()
	<-r.done
	delete(s.running, k)
	s.stateMu.Lock()
	delete(s.states, k)
	s.stateMu.Unlock()
}

func (s *Set) start(ctx context.Context, spec any, run func(context.Context, func(State))) *running {
	ctx, cancel := context.WithCancel(ctx)
	r := &running{cancel: cancel, done: make(chan struct{}), spec: spec}
	emit := func(st State) {
		s.stateMu.Lock()
		if ctx.Err() != nil { // stopped: its state is forgotten
			s.stateMu.Unlock()
			return
		}
		s.states[st.Key] = st
		s.stateMu.Unlock()
		select {
		case s.out <- st:
		case <-ctx.Done():
		}
	}
	go func() {
		defer close(r.done)
		run(ctx, emit)
	}()
	return r
}

// Stop stops every tracker and waits for them.
func (s *Set) Stop() {
	s.Apply(context.Background(), Spec{})
}
