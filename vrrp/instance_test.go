package vrrp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/havsd/havsd/internal/clock"
)

var vip100 = netip.MustParsePrefix("192.168.0.100/24")

func testConfig(name string, prio uint8) Config {
	return Config{
		Name: name, Interface: "eth0", VRID: 51, Priority: prio, Version: 3,
		AdvertInterval: 100 * time.Millisecond, Preempt: true,
		VIPs: []VIP{{Prefix: vip100}},
		GARP: GARP{Count: 2, Interval: 10 * time.Millisecond},
	}
}

// director is one instance on the fake network.
type director struct {
	inst   *Instance
	vips   *fakeVIPs
	conn   *hubConn
	links  *fakeLinks
	cancel context.CancelFunc
	done   chan error
	events []Event
}

type lab struct {
	t     *testing.T
	clock *clock.Fake
	hub   *hub
	ops   *opLog
}

func newLab(t *testing.T) *lab {
	return &lab{t: t, clock: newFakeClock(), hub: &hub{}, ops: &opLog{}}
}

func (lb *lab) start(cfg Config, local string) *director {
	lb.t.Helper()
	d := &director{vips: newFakeVIPs(cfg.Name, lb.ops), conn: lb.hub.conn(netip.MustParseAddr(local)), done: make(chan error, 1)}
	d.links = &fakeLinks{ch: make(chan LinkState, 4)}
	inst, err := NewInstance(cfg, Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Conn:   d.conn, VIPs: d.vips, Clock: lb.clock, Links: d.links, Addrs: d.vips,
	})
	if err != nil {
		lb.t.Fatal(err)
	}
	d.inst = inst
	lb.run(d, cfg.Name)
	return d
}

// run runs d's instance until d.cancel or the end of the test, when it
// waits for Run to return. Run's result lands in d.done.
func (lb *lab) run(d *director, name string) {
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() { d.done <- d.inst.Run(ctx) }()
	lb.t.Cleanup(func() {
		cancel()
		lb.waitFor("stopped "+name, func() bool {
			select {
			case <-d.done:
				return true
			default:
				return false
			}
		})
	})
}

// waitFor advances the fake clock in 1 ms steps until cond holds, failing
// after 10 s of real time.
func (lb *lab) waitFor(what string, cond func() bool) time.Duration {
	lb.t.Helper()
	start := lb.clock.Now()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			lb.t.Fatalf("timed out waiting for %s", what)
		}
		lb.clock.Advance(time.Millisecond)
		time.Sleep(50 * time.Microsecond)
	}
	return lb.clock.Now().Sub(start)
}

func (d *director) state() State { return d.inst.Status().State }

// drain collects the events delivered so far.
func (d *director) drain() []Event {
	for {
		select {
		case e := <-d.inst.Events():
			d.events = append(d.events, e)
		default:
			return d.events
		}
	}
}

func TestInstancesElectAndHandOver(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	b := lb.start(testConfig("b", 100), "10.0.0.2")
	lb.waitFor("a master, b backup", func() bool { return a.state() == StateMaster && b.state() == StateBackup })
	if !a.vips.has(vip100) || b.vips.has(vip100) {
		t.Fatalf("VIP held by a=%v b=%v", a.vips.has(vip100), b.vips.has(vip100))
	}
	lb.waitFor("a announced", func() bool { return a.vips.announced() >= 2 })

	// Graceful stop of the master: make-before-break.
	a.cancel()
	took := lb.waitFor("b master", func() bool { return b.state() == StateMaster })
	lb.waitFor("a stopped", func() bool { return a.state() == StateInit })
	t.Logf("graceful takeover after %v (Skew_Time of b: %v)", took, SkewTime(3, 100, 100*time.Millisecond))
	if took > 100*time.Millisecond {
		t.Errorf("graceful takeover took %v, more than one advert interval", took)
	}
	want := []string{"a add 192.168.0.100/24", "b add 192.168.0.100/24", "a remove 192.168.0.100/24"}
	if diff := cmp.Diff(want, lb.ops.list()); diff != "" {
		t.Errorf("VIP operations (-want +got):\n%s", diff)
	}
	lb.waitFor("a's events", func() bool { return len(a.drain()) >= 3 })
	var got []string
	for _, e := range a.drain() {
		got = append(got, e.From.String()+">"+e.To.String())
	}
	if diff := cmp.Diff([]string{"INIT>BACKUP", "BACKUP>MASTER", "MASTER>INIT"}, got); diff != "" {
		t.Errorf("a's transitions (-want +got):\n%s", diff)
	}
}

func TestHandoverAndPreemption(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	b := lb.start(testConfig("b", 100), "10.0.0.2")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster && b.state() == StateBackup })

	res := make(chan error, 1)
	go func() { res <- a.inst.Handover(context.Background()) }()
	lb.waitFor("handover done", func() bool { return len(res) == 1 })
	if err := <-res; err != nil {
		t.Fatalf("Handover: %v", err)
	}
	lb.waitFor("b master", func() bool { return b.state() == StateMaster })
	if a.state() != StateBackup || !a.inst.Status().Yielding || a.vips.has(vip100) {
		t.Fatalf("after handover: a %v (yielding %v), b %v", a.state(), a.inst.Status().Yielding, b.state())
	}
	// a stays backup while b advertises.
	lb.waitFor("a still yielding after 1 s", func() bool { return lb.clock.Now().Sub(t0) > 3*time.Second })
	if a.state() != StateBackup {
		t.Fatalf("a preempted after a handover: %v", a.state())
	}
	a.inst.Resume()
	lb.waitFor("a preempts after Resume", func() bool { return a.state() == StateMaster })
	lb.waitFor("b backup", func() bool { return b.state() == StateBackup })
	if err := b.inst.Handover(context.Background()); !errors.Is(err, ErrNotMaster) {
		t.Errorf("Handover of a backup = %v, want ErrNotMaster", err)
	}
}

func TestSplitBrainOnFakeLink(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 100), "10.0.0.1")
	b := lb.start(testConfig("b", 100), "10.0.0.2")
	lb.waitFor("one master", func() bool { return a.state() == StateMaster || b.state() == StateMaster })
	lb.hub.setCut(true)
	lb.waitFor("both master", func() bool { return a.state() == StateMaster && b.state() == StateMaster })
	annB := b.vips.announced()
	lb.clock.Advance(2 * time.Second)
	lb.hub.setCut(false)
	healed := lb.waitFor("a backup", func() bool { return a.state() == StateBackup })
	t.Logf("healed after %v", healed)
	if healed > 100*time.Millisecond {
		t.Errorf("split brain healed after %v, more than one advert interval", healed)
	}
	if b.state() != StateMaster || a.vips.has(vip100) || !b.vips.has(vip100) {
		t.Errorf("after heal: a %v holds %v, b %v holds %v", a.state(), a.vips.has(vip100), b.state(), b.vips.has(vip100))
	}
	lb.waitFor("b re-announced", func() bool { return b.vips.announced() > annB })
}

func TestDropsCounted(t *testing.T) {
	lb := newLab(t)
	a := lb.start(testConfig("a", 200), "10.0.0.1")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster })
	good := func(prio uint8, vrid uint8) []byte {
		p := Packet{Version: 3, Type: 1, VRID: vrid, Priority: prio, AdvertInterval: 100 * time.Millisecond, Addresses: []netip.Addr{vip100.Addr()}}
		b, _ := p.Seal(netip.MustParseAddr("10.0.0.9"), MulticastIPv4)
		return b
	}
	src := netip.MustParseAddr("10.0.0.9")
	bad := good(255, 51)
	bad[7] ^= 1
	for _, d := range []Datagram{
		{Data: good(255, 51), TTL: 64},
		{Data: bad, TTL: 255},
		{Data: good(255, 52), TTL: 255},
		{Data: good(255, 51)[:9], TTL: 255},
	} {
		d.Src, d.Dst = src, MulticastIPv4
		a.conn.inject(d)
	}
	want := map[string]uint64{"ttl": 1, "checksum": 1, "vrid": 1, "truncated": 1}
	lb.waitFor("drops counted", func() bool { return cmp.Equal(want, a.inst.Status().Drops) })
	if a.state() != StateMaster {
		t.Errorf("state %v after hostile adverts", a.state())
	}
	// A valid priority-255 advert from a stranger in multicast mode is obeyed.
	a.conn.inject(Datagram{Data: good(255, 51), Src: src, Dst: MulticastIPv4, TTL: 255})
	lb.waitFor("a steps down", func() bool { return a.state() == StateBackup })
}

func TestUpdateChangesOnlyTheDifference(t *testing.T) {
	lb := newLab(t)
	cfg := testConfig("a", 200)
	a := lb.start(cfg, "10.0.0.1")
	lb.waitFor("a master", func() bool { return a.state() == StateMaster })
	vip2 := netip.MustParsePrefix("192.168.0.101/24")
	cfg.VIPs = []VIP{{Prefix: vip2}}
	cfg.Priority = 150
	if err := a.inst.Update(cfg); err != nil {
		t.Fatal(err)
	}
	want := []string{"a add 192.168.0.100/24", "a remove 192.168.0.100/24", "a add 192.168.0.101/24"}
	if diff := cmp.Diff(want, lb.ops.list()); diff != "" {
		t.Errorf("VIP operations (-want +got):\n%s", diff)
	}
	if s := a.inst.Status(); s.State != StateMaster || s.EffectivePriority != 150 {
		t.Errorf("after update: %v priority %d", s.State, s.EffectivePriority)
	}
	a.inst.SetPriorityDelta(-100)
	lb.waitFor("delta applied", func() bool { return a.inst.Status().EffectivePriority == 50 })
	cfg.VRID = 9
	if err := a.inst.Update(cfg); err == nil {
		t.Errorf("Update accepted a VRID change")
	}
}

func TestConfigChecks(t *testing.T) {
	tests := map[string]func(*Config){
		"no interface":   func(c *Config) { c.Interface = "" },
		"vrid 0":         func(c *Config) { c.VRID = 0 },
		"v2 ipv6":        func(c *Config) { c.Version = 2; c.IPv6 = true; c.AdvertInterval = time.Second },
		"v2 fraction":    func(c *Config) { c.Version = 2; c.AdvertInterval = 1500 * time.Millisecond },
		"v3 5ms":         func(c *Config) { c.AdvertInterval = 5 * time.Millisecond },
		"no vip":         func(c *Config) { c.VIPs = nil },
		"wrong family":   func(c *Config) { c.IPv6 = true },
		"long password":  func(c *Config) { c.AuthPass = "123456789" },
		"peer of family": func(c *Config) { c.UnicastPeers = []netip.Addr{netip.MustParseAddr("::1")} },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig("x", 100)
			mutate(&cfg)
			if _, err := NewInstance(cfg, Options{}); err == nil {
				t.Errorf("NewInstance accepted the config")
			}
		})
	}
}
