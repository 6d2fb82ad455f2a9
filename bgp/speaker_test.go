package bgp

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/havsd/havsd/test/leak"
	"github.com/havsd/havsd/test/poll"
)

func TestMain(m *testing.M) { os.Exit(leak.Main(m)) }

// runSpeaker starts s and stops it when the test ends.
func runSpeaker(t *testing.T, s *Speaker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestLocalRIBFollowsSetRoutes runs GoBGP without neighbours: the routes
// Status reads back from GoBGP's RIB follow SetRoutes, with the configured
// communities and GRACEFUL_SHUTDOWN when asked.
func TestLocalRIBFollowsSetRoutes(t *testing.T) {
	s, err := New(Config{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11"), Communities: []string{"65000:100"}}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	runSpeaker(t, s)
	v4, v6 := netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("2001:db8::10/128")
	s.SetRoutes([]Route{{Prefix: v4}, {Prefix: v6, GracefulShutdown: true}})
	want := []RouteStatus{
		{Prefix: v4, Communities: []string{"65000:100"}},
		{Prefix: v6, GracefulShutdown: true, Communities: []string{"65000:100", "65535:0"}},
	}
	waitAnnounced(t, s, want)

	s.SetRoutes([]Route{{Prefix: v6}})
	waitAnnounced(t, s, []RouteStatus{{Prefix: v6, Communities: []string{"65000:100"}}})

	s.SetRoutes(nil)
	waitAnnounced(t, s, nil)
}

// addrs lets go-cmp compare netip values.
var addrs = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

func waitAnnounced(t *testing.T, s *Speaker, want []RouteStatus) {
	t.Helper()
	var last []RouteStatus
	if !poll.For(5*time.Second, func() bool {
		last = s.Status().Announced
		return cmp.Equal(last, want, addrs, cmpopts.EquateEmpty())
	}) {
		t.Fatalf("GoBGP's RIB never held the wanted routes (-want +got):\n%s", cmp.Diff(want, last, addrs, cmpopts.EquateEmpty()))
	}
}

// testLogger writes the speaker's log into the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// logRecorder keeps the speaker's log records (message and attributes,
// group-free) beside writing them to the test's output.
type logRecorder struct {
	slog.Handler
	mu    *sync.Mutex
	recs  *[]map[string]string
	attrs []slog.Attr
}

func newLogRecorder(t *testing.T) (*slog.Logger, *logRecorder) {
	r := &logRecorder{Handler: testLogger(t).Handler(), mu: &sync.Mutex{}, recs: &[]map[string]string{}}
	return slog.New(r), r
}

func (r *logRecorder) Handle(ctx context.Context, rec slog.Record) error {
	m := map[string]string{"msg": rec.Message}
	for _, a := range r.attrs {
		m[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	r.mu.Lock()
	*r.recs = append(*r.recs, m)
	r.mu.Unlock()
	return r.Handler.Handle(ctx, rec)
}

func (r *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	c := *r
	c.Handler = r.Handler.WithAttrs(as)
	c.attrs = append(slices.Clone(r.attrs), as...)
	return &c
}

// find returns the first record with every key=value of want (a value
// ending in "*" matches as a prefix).
func (r *logRecorder) find(want map[string]string) (map[string]string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range *r.recs {
		ok := true
		for k, v := range want {
			got, has := m[k]
			if p, wild := strings.CutSuffix(v, "*"); wild {
				ok = ok && has && strings.HasPrefix(got, p)
			} else {
				ok = ok && has && got == v
			}
		}
		if ok {
			return m, true
		}
	}
	return nil, false
}

// TestReconfigureGlobal changes the local AS and router id of a running
// speaker: GoBGP restarts with them and the wanted routes come back.
func TestReconfigureGlobal(t *testing.T) {
	cfg := Config{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11")}
	s, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	runSpeaker(t, s)
	v4 := netip.MustParsePrefix("192.0.2.10/32")
	s.SetRoutes([]Route{{Prefix: v4}})
	waitAnnounced(t, s, []RouteStatus{{Prefix: v4, Communities: []string{}}})

	cfg.ASN, cfg.RouterID, cfg.Communities = 65002, netip.MustParseAddr("10.0.0.12"), []string{"65002:7"}
	if err := s.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); st.ASN != 65002 || st.RouterID != cfg.RouterID {
		t.Errorf("after Reconfigure Status says AS %d router id %v", st.ASN, st.RouterID)
	}
	waitAnnounced(t, s, []RouteStatus{{Prefix: v4, Communities: []string{"65002:7"}}})

	bad := cfg
	bad.RouterID = netip.MustParseAddr("2001:db8::1")
	if err := s.Reconfigure(bad); err == nil {
		t.Error("Reconfigure accepted an IPv6 router id")
	}
	if st := s.Status(); st.RouterID != cfg.RouterID {
		t.Errorf("a refused Reconfigure changed the router id to %v", st.RouterID)
	}
}

// TestStatusWithoutRun: before Run, Status lists the configured neighbours
// as idle; SetRoutes and Reconfigure neither block nor fail.
func TestStatusWithoutRun(t *testing.T) {
	n := netip.MustParseAddr("10.0.0.1")
	s, err := New(Config{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11"), Neighbors: []Neighbor{{Address: n, ASN: 65000}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetRoutes([]Route{{Prefix: netip.MustParsePrefix("192.0.2.10/32")}})
	st := s.Status()
	if len(st.Neighbors) != 1 || st.Neighbors[0].Address != n || st.Neighbors[0].State != "idle" || len(st.Announced) != 0 {
		t.Errorf("Status before Run = %+v", st)
	}
	if err := s.Reconfigure(Config{ASN: 65003, RouterID: netip.MustParseAddr("10.0.0.11")}); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); st.ASN != 65003 || len(st.Neighbors) != 0 {
		t.Errorf("Status after Reconfigure before Run = %+v", st)
	}
}

// TestStatusRunning: Running is false before Run, true while the owner
// answers, and false again once Run has ended.
func TestStatusRunning(t *testing.T) {
	s, err := New(Config{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11")}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if s.Status().Running {
		t.Error("Running before Run")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if !poll.For(10*time.Second, func() bool { return s.Status().Running }) {
		t.Error("never Running while Run runs")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s.Status().Running {
		t.Error("Running after Run returned")
	}
}
