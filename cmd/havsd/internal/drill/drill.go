package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/havsd/havsd/internal/clock"
)

// Event is what a drill does to the pair, and how it gets back to a steady
// state for the next repetition.
type Event struct {
	Name string
	// Ready waits for one master serving the VIP and returns its node name
	// ("" when unknown, e.g. on a real pair without a VIP watch).
	Ready func(ctx context.Context) (master string, err error)
	// Trigger causes the failover away from master.
	Trigger func(ctx context.Context, master string) error
	// Restore undoes the event (restarts a crashed director, raises a
	// link); nil when nothing needs undoing.
	Restore func(ctx context.Context) error
}

// Config sets up a drill.
type Config struct {
	Prober    Prober
	Interval  time.Duration // between probe sends
	Timeout   time.Duration // per probe
	N         int           // repetitions
	Lead      time.Duration // probing before the event
	Jitter    time.Duration // random extra delay before the event, in [0, Jitter)
	Settle    time.Duration // keep probing this long after the last failure
	MaxOutage time.Duration // give up waiting for recovery after this long
	GARP      *GARPWatch    // optional
	VIP       *VIPWatch     // optional
	Log       io.Writer     // one line per repetition; nil for none
}

// Result is one repetition.
type Result struct {
	Rep      int
	Master   string // node holding the VIP before the event
	interval time.Duration
	MovedTo  string // node that took the VIP ("" if not seen)
	Outage
	VIPMoved   time.Duration // from the event
	VIPMovedOK bool
	GARP       time.Duration // first gratuitous ARP seen at the client, from the event
	GARPOK     bool
	TriggerErr error
}

// Run performs cfg.N repetitions of ev and returns their results.
func Run(ctx context.Context, cfg Config, ev Event) ([]Result, error) {
	if cfg.N <= 0 || cfg.Interval <= 0 || cfg.Timeout <= 0 {
		return nil, errors.New("drill: N, interval and timeout must be positive")
	}
	if cfg.Settle <= 0 {
		cfg.Settle = time.Second
	}
	if cfg.MaxOutage <= 0 {
		cfg.MaxOutage = 30 * time.Second
	}
	var results []Result
	for rep := 1; rep <= cfg.N; rep++ {
		master, err := ev.Ready(ctx)
		if err != nil {
			return results, fmt.Errorf("repetition %d: waiting for a steady master: %w", rep, err)
		}
		r, err := once(ctx, cfg, ev, master)
		r.Rep = rep
		if err != nil {
			return results, fmt.Errorf("repetition %d: %w", rep, err)
		}
		results = append(results, r)
		if cfg.Log != nil {
			fmt.Fprintln(cfg.Log, r.Line())
		}
		if ev.Restore != nil {
			if err := ev.Restore(ctx); err != nil {
				return results, fmt.Errorf("repetition %d: restoring after %s: %w", rep, ev.Name, err)
			}
		}
	}
	return results, nil
}

func once(ctx context.Context, cfg Config, ev Event, master string) (Result, error) {
	r := Result{Master: master, interval: cfg.Interval}
	p := newProbeLog()
	pctx, stopProbes := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.run(pctx, cfg.Prober, cfg.Interval, cfg.Timeout) }()
	defer func() { stopProbes(); wg.Wait() }()

	lead := cfg.Lead
	if cfg.Jitter > 0 {
		lead += rand.N(cfg.Jitter)
	}
	if err := clock.Sleep(ctx, clock.Real{}, lead); err != nil {
		return r, err
	}
	event := time.Now()
	if err := ev.Trigger(ctx, master); err != nil {
		return r, fmt.Errorf("triggering %s: %w", ev.Name, err)
	}
	// Probe until the target has answered for Settle since the last failure.
	deadline := event.Add(cfg.MaxOutage)
	for {
		if err := clock.Sleep(ctx, clock.Real{}, 10*time.Millisecond); err != nil {
			return r, err
		}
		now := time.Now()
		lastBad, anyOK := p.since(event)
		if anyOK && now.Sub(lastBad) >= cfg.Settle && now.Sub(event) >= cfg.Settle {
			break
		}
		if now.After(deadline) {
			break
		}
	}
	end := time.Now()
	stopProbes()
	wg.Wait()
	r.Outage = Analyze(p.samples(), event, end, cfg.Interval)
	if e, ok := cfg.VIP.MovedAfter(event, master); ok {
		r.VIPMoved, r.VIPMovedOK, r.MovedTo = e.At.Sub(event), true, e.Node
	}
	if g, ok := cfg.GARP.FirstAfter(event); ok {
		r.GARP, r.GARPOK = g.At.Sub(event), true
	}
	return r, nil
}

// Stalled reports a prober that could not send for more than 20 ms and five
// intervals: its gap may be inflated by its own starvation.
func (r Result) Stalled() bool {
	return r.SendStall > max(20*time.Millisecond, 5*r.interval)
}

// Line is a one-line account of a repetition.
func (r Result) Line() string {
	s := fmt.Sprintf("#%d gap %s, lost %d/%d", r.Rep, ms(r.Gap), r.Lost, r.Sent)
	if !r.Recovered {
		s += " (NOT RECOVERED)"
	}
	if r.Stalled() {
		s += fmt.Sprintf(" (prober stalled %s: busy machine)", ms(r.SendStall))
	}
	if r.VIPMovedOK {
		s += fmt.Sprintf(", VIP %s→%s at +%s", orQ(r.Master), r.MovedTo, ms(r.VIPMoved))
	}
	if r.GARPOK {
		s += fmt.Sprintf(", first GARP at +%s", ms(r.GARP))
	}
	return s
}

func orQ(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// probeLog collects samples from concurrent probes.
type probeLog struct {
	mu  sync.Mutex
	log []Sample
}

func newProbeLog() *probeLog { return &probeLog{} }

// run sends a probe every interval until ctx ends, each in its own goroutine
// so that a slow probe never delays the next one, and waits for them all.
func (p *probeLog) run(ctx context.Context, pr Prober, interval, timeout time.Duration) {
	var wg sync.WaitGroup
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			// Probes in flight finish on their own timeout, not on ctx.
			c, cancel := context.WithTimeout(context.Background(), timeout)
			err := pr.Probe(c)
			cancel()
			p.add(Sample{Sent: sent, Done: time.Now(), OK: err == nil})
		}()
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
	}
}

func (p *probeLog) add(s Sample) {
	p.mu.Lock()
	p.log = append(p.log, s)
	p.mu.Unlock()
}

// since returns the completion of the last failure sent after t (t if none)
// and whether any probe sent after t succeeded after that failure.
func (p *probeLog) since(t time.Time) (lastBad time.Time, okAfter bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	lastBad = t
	for _, s := range p.log {
		if !s.Sent.Before(t) && !s.OK && s.Done.After(lastBad) {
			lastBad = s.Done
		}
	}
	for _, s := range p.log {
		if s.OK && s.Done.After(lastBad) {
			return lastBad, true
		}
	}
	return lastBad, false
}

func (p *probeLog) samples() []Sample {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Sample(nil), p.log...)
}
