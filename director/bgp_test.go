package director

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/bgp"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/internal/clock"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/track"
	"github.com/havsd/havsd/vrrp"
)

var (
	bgpVIP  = netip.MustParseAddr("192.0.2.10")
	bgpVIP6 = netip.MustParseAddr("2001:db8::10")
	bgp80   = lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: bgpVIP, Port: 80}
	bgp443  = lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: bgpVIP, Port: 443}
	bgp6    = lvs.ServiceKey{Family: lvs.IPv6, Proto: lvs.TCP, Addr: bgpVIP6, Port: 80}
	p4      = netip.MustParsePrefix("192.0.2.10/32")
	p6      = netip.MustParsePrefix("2001:db8::10/128")
)

// bgpService is a service announced by BGP with two checked real servers
// and a quorum of 1.
func bgpService(name string, k lvs.ServiceKey) conf.VirtualService {
	return conf.VirtualService{Name: name, Service: lvs.Service{Key: k, Scheduler: "mh"},
		Reals: []conf.RealServer{real(rs1, 1, false), real(rs2, 1, false)}, Quorum: 1, Announce: "bgp"}
}

func bgpConfig(svcs ...conf.VirtualService) *conf.Config {
	return &conf.Config{
		Global:   conf.Global{IPVSMode: conf.IPVSAlways},
		Services: svcs,
		BGP: &conf.BGP{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.11"), DrainFor: 10 * time.Second,
			Neighbors: []conf.BGPNeighbor{{Address: netip.MustParseAddr("10.0.0.1"), ASN: 65000, HoldTime: 9 * time.Second}}},
	}
}

func TestAnnouncements(t *testing.T) {
	up := map[lvs.ServiceKey]lvs.QuorumState{bgp80: lvs.QuorumUp, bgp443: lvs.QuorumUp, bgp6: lvs.QuorumUp}
	prog := map[lvs.ServiceKey]bool{bgp80: true, bgp443: true, bgp6: true}
	serving := AnnounceInputs{IPVS: true, Programmed: prog, Quorum: up}
	with := func(f func(*AnnounceInputs)) AnnounceInputs {
		in := serving
		in.Programmed, in.Quorum = maps2(prog), maps2(up)
		f(&in)
		return in
	}
	one := bgpConfig(bgpService("web", bgp80))
	tests := []struct {
		name     string
		cfg      *conf.Config
		in       AnnounceInputs
		announce bool
		gs       bool
		reason   string // a substring of the reason
	}{
		{"serving", one, serving, true, false, "serving: web programmed with quorum"},
		{"desired but not in the kernel's table", one, with(func(in *AnnounceInputs) { delete(in.Programmed, bgp80) }),
			false, false, "service web (tcp 192.0.2.10:80) is not in the kernel's IPVS table"},
		{"quorum lost", one, with(func(in *AnnounceInputs) { in.Quorum[bgp80] = lvs.QuorumLost }), false, false, "service web lost quorum"},
		{"no quorum state yet", one, with(func(in *AnnounceInputs) { delete(in.Quorum, bgp80) }), false, false, "no quorum state yet"},
		{"a tracker fails", one, with(func(in *AnnounceInputs) { in.Unhealthy = `vrrp_script "chk" (exit 1)` }),
			false, false, `tracker failed: vrrp_script "chk" (exit 1)`},
		{"drained", one, with(func(in *AnnounceInputs) { in.Drained = true }), false, false, "drained (havsd drain"},
		{"stopping withdraws", one, with(func(in *AnnounceInputs) { in.Stopping = true }), false, false, "havsd is stopping"},
		{"stopping with graceful shutdown", one, with(func(in *AnnounceInputs) { in.Stopping, in.GracefulShutdown = true, true }),
			true, true, "GRACEFUL_SHUTDOWN"},
		{"graceful shutdown does not announce what cannot be served", one, with(func(in *AnnounceInputs) {
			in.Stopping, in.GracefulShutdown = true, true
			in.Quorum[bgp80] = lvs.QuorumLost
		}), false, false, "havsd is stopping"},
		{"graceful shutdown does not announce a drained VIP", one, with(func(in *AnnounceInputs) {
			in.Stopping, in.GracefulShutdown, in.Drained = true, true, true
		}), false, false, "havsd is stopping"},
		{"no IPVS: programming not required", one, AnnounceInputs{Quorum: up}, true, false, "no IPVS on this kernel"},
		{"no IPVS: quorum still counts", one, with(func(in *AnnounceInputs) { in.IPVS = false; in.Quorum[bgp80] = lvs.QuorumLost }),
			false, false, "lost quorum"},
		{"two services on one VIP: both must serve", bgpConfig(bgpService("web", bgp80), bgpService("tls", bgp443)),
			with(func(in *AnnounceInputs) { in.Quorum[bgp443] = lvs.QuorumLost }), false, false, "service tls lost quorum"},
		{"two services on one VIP serving", bgpConfig(bgpService("web", bgp80), bgpService("tls", bgp443)), serving,
			true, false, "serving: web, tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Announcements(tt.cfg, tt.in)
			if len(got) != 1 {
				t.Fatalf("Announcements = %+v, want one VIP", got)
			}
			a := got[0]
			if a.Prefix != p4 || a.Announce != tt.announce || a.GracefulShutdown != tt.gs || !strings.Contains(a.Reason, tt.reason) {
				t.Errorf("got %+v\nwant prefix %s announce %v graceful %v reason containing %q", a, p4, tt.announce, tt.gs, tt.reason)
			}
		})
	}
}

func maps2[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestAnnouncementsOnlyBGPServices(t *testing.T) {
	cfg := bgpConfig(bgpService("web6", bgp6), bgpService("web", bgp80))
	cfg.Services = append(cfg.Services,
		conf.VirtualService{Name: "vrrp", Service: lvs.Service{Key: key80}},
		conf.VirtualService{Name: "mark", Service: lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv4, FWMark: 7}}, Announce: "bgp"})
	got := Announcements(cfg, AnnounceInputs{IPVS: true, Programmed: map[lvs.ServiceKey]bool{bgp80: true},
		Quorum: map[lvs.ServiceKey]lvs.QuorumState{bgp80: lvs.QuorumUp, bgp6: lvs.QuorumUp}})
	var short []string
	for _, a := range got {
		short = append(short, fmt.Sprintf("%s %v %s", a.Prefix, a.Announce, strings.Join(a.Services, ",")))
	}
	want := []string{"192.0.2.10/32 true web", "2001:db8::10/128 false web6"}
	if diff := cmp.Diff(want, short); diff != "" {
		t.Errorf("announcements (-want +got):\n%s", diff)
	}
	if got, want := routeString(Routes(got)), "[192.0.2.10/32]"; got != want {
		t.Errorf("routes = %s, want %s", got, want)
	}
}

func TestFailingTrackers(t *testing.T) {
	chk, file := track.Key{Kind: track.KindScript, Name: "chk"}, track.Key{Kind: track.KindFile, Name: "maint"}
	d := &Director{cfg: &conf.Config{Trackers: conf.Trackers{Spec: track.Spec{
		Scripts: []track.Script{{Name: "chk"}}, Files: []track.File{{Name: "maint"}}}}},
		trk: &trackRun{states: map[track.Key]track.State{}}}
	if got := d.failingTrackers(); got != "" {
		t.Errorf("no result yet: failingTrackers = %q, want none (an unknown tracker counts as OK)", got)
	}
	d.trk.states[chk] = track.State{Key: chk, Known: true, OK: true}
	d.trk.states[file] = track.State{Key: file, Known: true, OK: false, Last: "value 1"}
	if got, want := d.failingTrackers(), `track_file "maint" (value 1)`; got != want {
		t.Errorf("failingTrackers = %q, want %q", got, want)
	}
	d.trk.states[track.Key{Kind: track.KindScript, Name: "old"}] = track.State{Known: true}
	d.trk.states[file] = track.State{Key: file, Known: true, OK: true}
	if got := d.failingTrackers(); got != "" {
		t.Errorf("all OK (a tracker no longer configured ignored): failingTrackers = %q", got)
	}
}

func TestBGPWaitStep(t *testing.T) {
	type look struct {
		out     bool
		passes  uint64
		active  int
		trigger bool
		moved   bool
	}
	tests := []struct {
		name  string
		ipvs  bool
		looks []look
	}{
		{"routes still in the speaker: nothing read yet", true, []look{
			{false, 5, 9, false, false}, {false, 6, 0, false, false}}},
		{"out, then a read after it finds none", true, []look{
			{true, 5, 9, true, false},  // asks for a read
			{true, 5, 9, false, false}, // not read yet: the old count proves nothing
			{true, 6, 0, false, true}}},
		{"connections linger, then end", true, []look{
			{true, 5, 3, true, false}, {true, 6, 3, true, false}, {true, 6, 3, false, false},
			{true, 7, 1, true, false}, {true, 8, 0, false, true}}},
		{"no IPVS: nothing to count once out", false, []look{
			{false, 0, 0, false, false}, {true, 0, 0, false, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &bgpWait{}
			for i, l := range tt.looks {
				if got := w.step(l.out, l.passes, l.active, tt.ipvs); got != l.trigger || w.moved != l.moved {
					t.Fatalf("look %d %+v: trigger %v moved %v", i, l, got, w.moved)
				}
			}
		})
	}
	now := time.Now()
	w := &bgpWait{since: now, until: now.Add(time.Second)}
	if w.done(now) || !w.done(now.Add(time.Second)) {
		t.Error("done must be false before until and true at until")
	}
}

// bgpIPVS is a reconciler whose every pass (SetDesired, Trigger) makes the
// kernel table the desired one, except services the test keeps out, with
// the active connections the test sets.
type bgpIPVS struct {
	mu       sync.Mutex
	desired  lvs.Desired
	observed []lvs.Service
	passes   uint64
	missing  map[lvs.ServiceKey]bool
	active   map[lvs.ServiceKey]int
	triggers int
}

func (f *bgpIPVS) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (f *bgpIPVS) SetDesired(d lvs.Desired) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.desired = d
	f.passLocked()
}
func (f *bgpIPVS) Trigger() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.triggers++
	f.passLocked()
}
func (f *bgpIPVS) passLocked() {
	f.passes++
	f.observed = nil
	for _, s := range f.desired.Services {
		if f.missing[s.Key] {
			continue
		}
		s.Destinations = slices.Clone(s.Destinations)
		if len(s.Destinations) > 0 {
			s.Destinations[0].ActiveConns = f.active[s.Key]
		}
		f.observed = append(f.observed, s)
	}
}
func (f *bgpIPVS) Observed() []lvs.Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.observed)
}
func (f *bgpIPVS) Status() IPVSStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return IPVSStatus{Available: true, Reconciles: f.passes}
}
func (f *bgpIPVS) set(fn func(f *bgpIPVS)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// fakeSpeaker holds the routes it is given as gobgp's table would, and
// records what happens to it in the harness's journal.
type fakeSpeaker struct {
	h       *bgpHarness
	mu      sync.Mutex
	cfg     bgp.Config
	routes  []bgp.Route
	reconfs []bgp.Config
	dead    bool // Run ended: Status says not running
}

func (s *fakeSpeaker) Run(ctx context.Context) error {
	<-ctx.Done()
	s.h.note("speaker stopped")
	return nil
}
func (s *fakeSpeaker) SetRoutes(rs []bgp.Route) {
	s.mu.Lock()
	s.routes = slices.Clone(rs)
	s.mu.Unlock()
	s.h.note("routes " + routeString(rs))
}
func (s *fakeSpeaker) Reconfigure(cfg bgp.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reconfs = append(s.reconfs, cfg)
	return nil
}
func (s *fakeSpeaker) Status() bgp.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := bgp.Status{ASN: s.cfg.ASN, Running: !s.dead, Neighbors: []bgp.NeighborStatus{{Address: netip.MustParseAddr("10.0.0.1"), ASN: 65000,
		State: "established", Uptime: time.Minute, MsgsSent: 3}}}
	for _, r := range s.routes {
		st.Announced = append(st.Announced, bgp.RouteStatus{Prefix: r.Prefix, GracefulShutdown: r.GracefulShutdown})
	}
	return st
}

func routeString(rs []bgp.Route) string {
	var out []string
	for _, r := range rs {
		s := r.Prefix.String()
		if r.GracefulShutdown {
			s += "+gshut"
		}
		out = append(out, s)
	}
	return "[" + strings.Join(out, " ") + "]"
}

// bgpHarness runs a director with a BGP speaker over fakes and keeps a
// journal of what the speaker saw, in order.
type bgpHarness struct {
	t        *testing.T
	d        *Director
	ipvs     *bgpIPVS
	clock    *clock.Fake
	healthCh chan<- HealthChange
	mu       sync.Mutex
	journal  []string
	speakers []*fakeSpeaker
	next     *conf.Config
	links    fakeLinks
	cancel   context.CancelFunc
	done     chan error
}

func (h *bgpHarness) note(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.journal = append(h.journal, s)
}

func (h *bgpHarness) journalCopy() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.journal)
}

func (h *bgpHarness) lastRoutes() string {
	j := h.journalCopy()
	for i := len(j) - 1; i >= 0; i-- {
		if strings.HasPrefix(j[i], "routes ") {
			return strings.TrimPrefix(j[i], "routes ")
		}
	}
	return "(none)"
}

func newBGPHarness(t *testing.T, cfg *conf.Config) *bgpHarness {
	t.Helper()
	h := &bgpHarness{t: t, ipvs: &bgpIPVS{missing: map[lvs.ServiceKey]bool{}, active: map[lvs.ServiceKey]int{}},
		clock: clock.NewFake(time.Now()), done: make(chan error, 1), next: cfg,
		links: fakeLinks{watches: make(chan linkWatch, 4)}}
	deps := Deps{
		Load: func() Loaded {
			h.mu.Lock()
			defer h.mu.Unlock()
			return Loaded{Config: h.next}
		},
		IPVS: h.ipvs,
		NewHealth: func(ch chan<- HealthChange) Health {
			h.healthCh = ch
			return &fakeHealth{}
		},
		NewBGP: func(c bgp.Config) (Speaker, error) {
			s := &fakeSpeaker{h: h, cfg: c}
			h.mu.Lock()
			h.speakers = append(h.speakers, s)
			h.mu.Unlock()
			h.note(fmt.Sprintf("speaker started asn %d", c.ASN))
			return s, nil
		},
		Clock: h.clock,
		Links: h.links,
	}
	h.d = New(cfg, "test.hcl", deps, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for {
			select {
			case <-h.done:
				return
			case <-time.After(10 * time.Millisecond):
				h.clock.Advance(time.Second) // a stop's wait ends with drain_for
			}
		}
	})
	return h
}

func (h *bgpHarness) eventually(what string, cond func() bool) {
	h.t.Helper()
	(&harness{t: h.t}).eventually(what, cond)
}

// tick advances the director's clock by one tick and waits until the loop
// has handled it (a status request is answered after the tick).
func (h *bgpHarness) tick() {
	h.t.Helper()
	h.eventually("the tick armed", func() bool { return h.clock.Pending() > 0 || h.stopped() })
	h.clock.Advance(time.Second)
	// The loop re-arms the tick first thing when it handles it; a status
	// request is answered once the handling is over.
	h.eventually("the tick handled", func() bool { return h.clock.Pending() > 0 || h.stopped() })
	if _, err := h.d.Status(context.Background()); err != nil && err != errStopped {
		h.t.Fatal(err)
	}
}

func (h *bgpHarness) status() Status {
	h.t.Helper()
	st, err := h.d.Status(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *bgpHarness) vip(prefix string) BGPVIPStatus {
	h.t.Helper()
	st := h.status()
	if st.BGP == nil {
		h.t.Fatal("status has no bgp section")
	}
	for _, v := range st.BGP.VIPs {
		if v.Prefix == prefix {
			return v
		}
	}
	h.t.Fatalf("status has no BGP VIP %s: %+v", prefix, st.BGP.VIPs)
	return BGPVIPStatus{}
}

func TestBGPAnnouncedOnlyOnceInTheKernelTable(t *testing.T) {
	h := newBGPHarness(t, bgpConfig(bgpService("web", bgp80)))
	h.eventually("route announced after the first pass", func() bool { return h.lastRoutes() == "[192.0.2.10/32]" })
	v := h.vip("192.0.2.10/32")
	if v.State != "announced" || !v.InSpeaker || !strings.Contains(v.Reason, "programmed with quorum") {
		t.Errorf("status VIP = %+v", v)
	}
	st := h.status()
	if len(st.BGP.Neighbors) != 1 || st.BGP.Neighbors[0].State != "established" || st.BGP.Neighbors[0].UptimeSeconds != 60 {
		t.Errorf("status neighbours = %+v (read from the speaker)", st.BGP.Neighbors)
	}

	// The kernel loses the service (ipvsadm -C): the next look at what
	// the reconciler read withdraws, though the desired table has it.
	h.ipvs.set(func(f *bgpIPVS) { f.missing[bgp80] = true; f.passLocked() })
	h.tick()
	if got := h.lastRoutes(); got != "[]" {
		t.Fatalf("routes after the service left the kernel = %s, want none", got)
	}
	if v := h.vip("192.0.2.10/32"); v.State != "withdrawn" || !strings.Contains(v.Reason, "not in the kernel's IPVS table") {
		t.Errorf("status VIP = %+v", v)
	}
	h.ipvs.set(func(f *bgpIPVS) { delete(f.missing, bgp80); f.passLocked() })
	h.tick()
	if got := h.lastRoutes(); got != "[192.0.2.10/32]" {
		t.Errorf("routes after repair = %s", got)
	}
}

func TestBGPWithdrawnOnQuorumLossAtOnce(t *testing.T) {
	h := newBGPHarness(t, bgpConfig(bgpService("web", bgp80)))
	h.eventually("announced", func() bool { return h.lastRoutes() == "[192.0.2.10/32]" })
	for _, a := range []netip.Addr{rs1, rs2} {
		h.healthCh <- HealthChange{ID: RealID(bgp80, lvs.DestKey{Addr: a, Port: 80}), Up: false}
	}
	// No tick: the health transition itself withdraws.
	h.eventually("withdrawn on quorum loss", func() bool { return h.lastRoutes() == "[]" })
	if v := h.vip("192.0.2.10/32"); !strings.Contains(v.Reason, "lost quorum") {
		t.Errorf("reason = %q", v.Reason)
	}
	h.healthCh <- HealthChange{ID: RealID(bgp80, lvs.DestKey{Addr: rs1, Port: 80}), Up: true}
	h.eventually("announced again", func() bool { return h.lastRoutes() == "[192.0.2.10/32]" })
}

func TestBGPDrainAndUndrain(t *testing.T) {
	h := newBGPHarness(t, bgpConfig(bgpService("web", bgp80)))
	h.eventually("announced", func() bool { return h.lastRoutes() == "[192.0.2.10/32]" })
	h.ipvs.set(func(f *bgpIPVS) { f.active[bgp80] = 4; f.passLocked() })

	ws, err := h.d.Drain(context.Background(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.lastRoutes(); got != "[]" {
		t.Fatalf("routes after drain = %s", got)
	}
	if !ws.RoutesOut || ws.Moved || ws.Until.Sub(ws.Since) != 5*time.Second {
		t.Errorf("drain = %+v, want routes out, not moved, 5s", ws)
	}
	h.tick() // the read asked for when the routes went out finds 4
	st := h.status().BGP
	if st.Drain == nil || !st.Drain.Read || st.Drain.ActiveConns != 4 || st.Drain.Moved {
		t.Fatalf("drain = %+v, want 4 active connections read", st.Drain)
	}
	if v := h.vip("192.0.2.10/32"); v.State != "withdrawn" || !strings.Contains(v.Reason, "drained") {
		t.Errorf("VIP = %+v", v)
	}
	// Health and ticks do not announce a drained VIP.
	h.healthCh <- HealthChange{ID: RealID(bgp80, lvs.DestKey{Addr: rs1, Port: 80}), Up: true}
	h.tick()
	if got := h.lastRoutes(); got != "[]" {
		t.Fatalf("a drained VIP was announced again: %s", got)
	}
	h.ipvs.set(func(f *bgpIPVS) { f.active[bgp80] = 0 })
	h.tick()
	h.tick()
	if st := h.status().BGP; !st.Drain.Moved {
		t.Fatalf("drain = %+v, want moved once no connection is left", st.Drain)
	}
	was, err := h.d.Undrain(context.Background())
	if err != nil || !was {
		t.Fatalf("Undrain = %v, %v", was, err)
	}
	if got := h.lastRoutes(); got != "[192.0.2.10/32]" {
		t.Errorf("routes after undrain = %s", got)
	}
	if st := h.status().BGP; st.Drain != nil {
		t.Errorf("drain still reported after undrain: %+v", st.Drain)
	}
	if was, _ := h.d.Undrain(context.Background()); was {
		t.Error("a second Undrain reports a drain")
	}
}

func TestDrainWithoutBGP(t *testing.T) {
	h := newBGPHarness(t, webConfig(true, 0, 0))
	if _, err := h.d.Drain(context.Background(), 0); err != ErrNoBGP {
		t.Errorf("Drain without a bgp block = %v, want ErrNoBGP", err)
	}
	if st := h.status(); st.BGP != nil {
		t.Errorf("status has a bgp section without a bgp block: %+v", st.BGP)
	}
}

// stopped reports whether Run has returned.
func (h *bgpHarness) stopped() bool {
	select {
	case err := <-h.done:
		h.done <- err
		return true
	default:
		return false
	}
}

func TestBGPStopWithdrawsThenWaitsForTraffic(t *testing.T) {
	for _, gs := range []bool{false, true} {
		t.Run(fmt.Sprintf("graceful_shutdown=%v", gs), func(t *testing.T) {
			cfg := bgpConfig(bgpService("web", bgp80))
			cfg.BGP.GracefulShutdown = gs
			h := newBGPHarness(t, cfg)
			h.eventually("announced", func() bool { return h.lastRoutes() == "[192.0.2.10/32]" })
			h.ipvs.set(func(f *bgpIPVS) { f.active[bgp80] = 2; f.passLocked() })
			h.cancel() // SIGTERM
			want := "[]"
			if gs {
				want = "[192.0.2.10/32+gshut]"
			}
			h.eventually("routes "+want, func() bool { return h.lastRoutes() == want })
			for range 3 {
				h.tick()
			}
			if h.stopped() {
				t.Fatal("the director stopped while connections were active and drain_for had not passed")
			}
			st := h.status().BGP
			if st.Stopping == nil || !st.Stopping.RoutesOut || st.Stopping.ActiveConns != 2 {
				t.Fatalf("stopping = %+v", st.Stopping)
			}
			h.ipvs.set(func(f *bgpIPVS) { f.active[bgp80] = 0 })
			h.tick() // the table as last read still has 2: read again
			h.tick() // that read finds none: the director stops
			h.eventually("stopped once traffic moved", h.stopped)
			j := h.journalCopy()
			iRoutes, iStop := slices.Index(j, "routes "+want), slices.Index(j, "speaker stopped")
			if iRoutes < 0 || iStop < iRoutes {
				t.Errorf("journal %q: want the routes %s before the speaker stops", j, want)
			}
		})
	}
}

func TestBGPStopBoundedByDrainFor(t *testing.T) {
	h := newBGPHarness(t, bgpConfig(bgpService("web", bgp80)))
	h.eventually("announced", func() bool { return h.lastRoutes() == "[192.0.2.10/32]" })
	h.ipvs.set(func(f *bgpIPVS) { f.active[bgp80] = 7; f.passLocked() })
	h.cancel()
	h.eventually("withdrawn", func() bool { return h.lastRoutes() == "[]" })
	for range 9 {
		h.tick()
	}
	if h.stopped() {
		t.Fatal("stopped before drain_for (10s)")
	}
	h.tick()
	h.eventually("stopped at drain_for with connections left", h.stopped)
}

func TestBGPStopWithNothingAnnouncedDoesNotWait(t *testing.T) {
	h := newBGPHarness(t, bgpConfig(bgpService("web", bgp80)))
	h.eventually("announced", func() bool { return h.lastRoutes() == "[192.0.2.10/32]" })
	if _, err := h.d.Drain(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	h.cancel()
	h.eventually("stopped at once: a drained director has nothing announced", h.stopped)
}

func TestBGPReload(t *testing.T) {
	h := newBGPHarness(t, bgpConfig(bgpService("web", bgp80)))
	h.eventually("announced", func() bool { return h.lastRoutes() == "[192.0.2.10/32]" })

	cur := bgpConfig(bgpService("web", bgp80))
	cur.BGP.Neighbors[0].HoldTime = 30 * time.Second
	h.mu.Lock()
	h.next = cur
	h.mu.Unlock()
	if st, err := h.d.Reload(context.Background()); err != nil || !strings.Contains(st.Summary, "bgp updated") {
		t.Fatalf("reload = %+v, %v", st, err)
	}
	h.mu.Lock()
	sp := h.speakers[0]
	n := len(h.speakers)
	h.mu.Unlock()
	sp.mu.Lock()
	reconfs := slices.Clone(sp.reconfs)
	sp.mu.Unlock()
	if n != 1 || len(reconfs) != 1 || reconfs[0].Neighbors[0].HoldTime != 30*time.Second {
		t.Errorf("speakers %d, reconfigurations %+v: want one speaker reconfigured with the new hold time", n, reconfs)
	}

	// A reload that changes nothing in the bgp block does not reconfigure.
	if _, err := h.d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	sp.mu.Lock()
	if len(sp.reconfs) != 1 {
		t.Errorf("an unchanged bgp block reconfigured the speaker: %d", len(sp.reconfs))
	}
	sp.mu.Unlock()

	// The service moves to VRRP and the bgp block goes, during a drain:
	// the route is withdrawn, the speaker stops and the drain ends.
	if _, err := h.d.Drain(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	plain := webConfig(true, 0, 0)
	h.mu.Lock()
	h.next = plain
	h.mu.Unlock()
	if st, err := h.d.Reload(context.Background()); err != nil || !strings.Contains(st.Summary, "bgp removed") {
		t.Fatalf("reload = %+v, %v", st, err)
	}
	h.eventually("speaker stopped", func() bool { return slices.Contains(h.journalCopy(), "speaker stopped") })
	if st := h.status(); st.BGP != nil {
		t.Errorf("status keeps a bgp section: %+v", st.BGP)
	}

	// The bgp block comes back: a new speaker, announcing (not drained).
	h.mu.Lock()
	h.next = bgpConfig(bgpService("web", bgp80))
	h.mu.Unlock()
	if st, err := h.d.Reload(context.Background()); err != nil || !strings.Contains(st.Summary, "bgp added") {
		t.Fatalf("reload = %+v, %v", st, err)
	}
	h.eventually("a second speaker announcing", func() bool {
		h.mu.Lock()
		n := len(h.speakers)
		h.mu.Unlock()
		return n == 2 && h.lastRoutes() == "[192.0.2.10/32]"
	})
}

// fakeLinks hands each watch (the names and the channel) to the test.
type fakeLinks struct{ watches chan linkWatch }

type linkWatch struct {
	names []string
	out   chan<- vrrp.LinkState
}

func (f fakeLinks) Watch(ctx context.Context, names []string, out chan<- vrrp.LinkState) error {
	f.watches <- linkWatch{names, out}
	<-ctx.Done()
	return nil
}

func TestBGPWithdrawnWhileATrackedInterfaceIsDown(t *testing.T) {
	cfg := bgpConfig(bgpService("web", bgp80))
	cfg.Trackers.Interfaces = map[string][]conf.InterfaceWeight{"VI_1": {{Name: "eth1", Weight: 0}}, "VI_2": {{Name: "eth0", Weight: -20}}}
	h := newBGPHarness(t, cfg)
	w := <-h.links.watches
	if !slices.Equal(w.names, []string{"eth0", "eth1"}) {
		t.Fatalf("watched %q, want every track_interface", w.names)
	}
	w.out <- vrrp.LinkState{Name: "eth0", Up: true}
	w.out <- vrrp.LinkState{Name: "eth1", Up: true}
	h.eventually("announced", func() bool { return h.lastRoutes() == "[192.0.2.10/32]" })
	w.out <- vrrp.LinkState{Name: "eth1", Up: false}
	h.eventually("withdrawn with eth1 down", func() bool { return h.lastRoutes() == "[]" })
	if v := h.vip("192.0.2.10/32"); !strings.Contains(v.Reason, "track_interface eth1 is down") {
		t.Errorf("reason = %q", v.Reason)
	}
	w.out <- vrrp.LinkState{Name: "eth1", Up: true}
	h.eventually("announced with eth1 up", func() bool { return h.lastRoutes() == "[192.0.2.10/32]" })

	// A reload that tracks other interfaces restarts the watch.
	cur := bgpConfig(bgpService("web", bgp80))
	cur.Trackers.Interfaces = map[string][]conf.InterfaceWeight{"VI_1": {{Name: "bond0"}}}
	h.mu.Lock()
	h.next = cur
	h.mu.Unlock()
	if _, err := h.d.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	w = <-h.links.watches
	if !slices.Equal(w.names, []string{"bond0"}) {
		t.Fatalf("watched after reload %q", w.names)
	}
	w.out <- vrrp.LinkState{Name: "bond0", Gone: true}
	h.eventually("withdrawn with bond0 gone", func() bool { return h.lastRoutes() == "[]" })
}

// The status says the speaker runs only while the speaker itself says so
// (one whose Run ended, say on a listen port in use, is reported).
func TestBGPStatusRunningFromSpeaker(t *testing.T) {
	sp := &fakeSpeaker{}
	st := &BGPStatus{}
	st.withSpeaker(sp)
	if !st.Running {
		t.Error("a running speaker reported as not running")
	}
	sp.dead = true
	st = &BGPStatus{}
	st.withSpeaker(sp)
	if st.Running {
		t.Error("a speaker whose Run ended reported as running")
	}
}
