package director

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/vrrp"
)

// fakeIPVS records every desired table it is given.
type fakeIPVS struct {
	mu      sync.Mutex
	desired []lvs.Desired
}

func (f *fakeIPVS) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (f *fakeIPVS) SetDesired(d lvs.Desired) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.desired = append(f.desired, d)
}
func (f *fakeIPVS) Observed() []lvs.Service { return nil }
func (f *fakeIPVS) Status() IPVSStatus      { return IPVSStatus{Available: true} }
func (f *fakeIPVS) last() (lvs.Desired, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.desired) == 0 {
		return lvs.Desired{}, 0
	}
	return f.desired[len(f.desired)-1], len(f.desired)
}

// fakeVRRP is an instance whose life the test controls.
type fakeVRRP struct {
	heartbeat atomic.Pointer[time.Time]
	delta     atomic.Int32
	cfg       vrrp.Config
	events    chan<- StateChange
	updates   atomic.Int32
	stopped   chan struct{}
	fail      chan error // a value makes Run return it (the loop "dies")
}

func (f *fakeVRRP) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		close(f.stopped)
		return nil
	case err := <-f.fail:
		return err
	}
}
func (f *fakeVRRP) Update(cfg vrrp.Config) error { f.cfg = cfg; f.updates.Add(1); return nil }
func (f *fakeVRRP) Handover(ctx context.Context) error {
	if f.cfg.Priority < 100 {
		return vrrp.ErrNotMaster // the tests' convention: low priority means backup
	}
	return nil
}
func (f *fakeVRRP) LowerPriority(n int) { f.delta.Store(int32(n)) }
func (f *fakeVRRP) Status() InstanceStatus {
	st := InstanceStatus{Interface: f.cfg.Interface}
	if hb := f.heartbeat.Load(); hb != nil {
		st.Heartbeat = *hb
	}
	return st
}

type fakeHealth struct {
	mu   sync.Mutex
	sets []map[string][]checks.Spec
}

func (f *fakeHealth) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (f *fakeHealth) Set(t map[string][]checks.Spec) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets = append(f.sets, t)
}
func (f *fakeHealth) Status() map[string]HealthStatus { return nil }

// harness runs a director over fakes.
type harness struct {
	t        *testing.T
	d        *Director
	ipvs     *fakeIPVS
	health   *fakeHealth
	healthCh chan<- HealthChange
	mu       sync.Mutex
	vrrps    map[string]*fakeVRRP
	released []string
	next     atomic.Pointer[Loaded]
	loads    atomic.Int32
	cancel   context.CancelFunc
	done     chan error
}

func newHarness(t *testing.T, cfg *conf.Config) *harness {
	t.Helper()
	h := &harness{t: t, ipvs: &fakeIPVS{}, health: &fakeHealth{}, vrrps: map[string]*fakeVRRP{}, done: make(chan error, 1)}
	deps := Deps{
		Load: func() Loaded { h.loads.Add(1); return *h.next.Load() },
		NewVRRP: func(c vrrp.Config, _ []uint8, ev chan<- StateChange) (VRRP, error) {
			f := &fakeVRRP{cfg: c, events: ev, stopped: make(chan struct{}), fail: make(chan error, 1)}
			h.mu.Lock()
			h.vrrps[c.Name] = f
			h.mu.Unlock()
			return f, nil
		},
		ReleaseVIPs: func(c vrrp.Config) error {
			h.mu.Lock()
			h.released = append(h.released, c.Name)
			h.mu.Unlock()
			return nil
		},
		IPVS: h.ipvs,
		NewHealth: func(ch chan<- HealthChange) Health {
			h.healthCh = ch
			return h.health
		},
	}
	h.next.Store(&Loaded{Config: cfg})
	h.d = New(cfg, "test.hcl", deps, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("director did not stop")
		}
	})
	h.eventually("first desired table", func() bool { _, n := h.ipvs.last(); return n > 0 })
	return h
}

func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) vrrp(name string) *fakeVRRP {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.vrrps[name]
}

func instanceCfg(name string, vrid uint8, prio uint8) vrrp.Config {
	return vrrp.Config{Name: name, Interface: "eth0", VRID: vrid, Priority: prio, Version: 3, AdvertInterval: time.Second,
		VIPs: []vrrp.VIP{{Prefix: netip.MustParsePrefix("172.25.254.100/24")}}}
}

func TestHealthTransitionsSteerWeights(t *testing.T) {
	h := newHarness(t, webConfig(true, 0, 0))
	id1 := RealID(key80, lvs.DestKey{Addr: rs1, Port: 80})
	h.healthCh <- HealthChange{ID: id1, Up: false, Reason: "connection refused"}
	h.eventually("rs1 at weight 0", func() bool { d, _ := h.ipvs.last(); return weights(d)["192.168.0.101:80"] == 0 })
	h.healthCh <- HealthChange{ID: id1, Up: true}
	h.eventually("rs1 back at weight 2", func() bool { d, _ := h.ipvs.last(); return weights(d)["192.168.0.101:80"] == 2 })
	st, err := h.d.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Services) != 1 || st.Services[0].Reals[0].Health != "up" {
		t.Errorf("status services = %+v", st.Services)
	}
}

func TestReloadKeepsInstancesAndRejectsBadFiles(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100), instanceCfg("VI_2", 52, 100)}
	h := newHarness(t, cfg)
	vi1, vi2 := h.vrrp("VI_1"), h.vrrp("VI_2")

	// An invalid file changes nothing.
	h.next.Store(&Loaded{Err: errors.New("bad"), Diagnostics: "test.hcl:3,7-9: Unknown scheduler"})
	reply := make(chan ReloadStatus, 1)
	h.d.Reload(reply)
	if st := <-reply; st.OK || st.Diagnostics == "" {
		t.Fatalf("bad reload status = %+v", st)
	}
	if vi1.updates.Load() != 0 {
		t.Fatal("a rejected reload updated an instance")
	}

	// Same VRID renamed and reprioritised: updated in place; VI_2 removed; VI_3 added.
	cfg2 := webConfig(true, 0, 0)
	cfg2.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 150), instanceCfg("VI_3", 53, 100)}
	h.next.Store(&Loaded{Config: cfg2})
	h.d.Reload(reply)
	st := <-reply
	if !st.OK {
		t.Fatalf("reload = %+v", st)
	}
	if vi1.updates.Load() != 1 || vi1.cfg.Priority != 150 {
		t.Errorf("VI_1 updates = %d, priority %d; want 1 update to 150", vi1.updates.Load(), vi1.cfg.Priority)
	}
	select {
	case <-vi2.stopped:
	case <-time.After(2 * time.Second):
		t.Error("VI_2 was not stopped")
	}
	if h.vrrp("VI_3") == nil {
		t.Error("VI_3 was not started")
	}
	if h.vrrp("VI_1") != vi1 {
		t.Error("VI_1 was restarted instead of updated")
	}
}

func TestReloadBurstCollapses(t *testing.T) {
	h := newHarness(t, webConfig(true, 0, 0))
	var wg sync.WaitGroup
	// Hold the director busy so the requests pile up.
	block := make(chan struct{})
	go func() { _ = h.d.do(context.Background(), func() { <-block }) }()
	time.Sleep(10 * time.Millisecond)
	for range 10 {
		h.d.Reload(nil)
	}
	close(block)
	wg.Wait()
	h.eventually("one reload", func() bool { return h.loads.Load() >= 1 })
	time.Sleep(50 * time.Millisecond)
	if n := h.loads.Load(); n != 1 {
		t.Errorf("ten reload requests loaded the file %d times, want 1", n)
	}
}

func TestDeadInstanceReleasesVIPs(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100)}
	h := newHarness(t, cfg)
	h.vrrp("VI_1").fail <- errors.New("socket closed")
	h.eventually("VIPs released", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.released) == 1 && h.released[0] == "VI_1"
	})
}

func TestMasterOnlyFollowsState(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Global.IPVSMode = conf.IPVSMasterOnly
	cfg.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100)}
	h := newHarness(t, cfg)
	if d, _ := h.ipvs.last(); len(d.Services) != 0 {
		t.Fatalf("programmed %d services before becoming master", len(d.Services))
	}
	h.vrrp("VI_1").events <- StateChange{Instance: "VI_1", From: "backup", To: "master"}
	h.eventually("service programmed on master", func() bool { d, _ := h.ipvs.last(); return len(d.Services) == 1 })
	h.vrrp("VI_1").events <- StateChange{Instance: "VI_1", From: "master", To: "backup"}
	h.eventually("service withdrawn on backup", func() bool { d, _ := h.ipvs.last(); return len(d.Services) == 0 })
}

func TestDrainOnRemoval(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Services[0].DrainFor = time.Hour
	h := newHarness(t, cfg)
	cfg2 := webConfig(true, 0, 0)
	cfg2.Services[0].DrainFor = time.Hour
	cfg2.Services[0].Reals = cfg2.Services[0].Reals[:1]
	h.next.Store(&Loaded{Config: cfg2})
	reply := make(chan ReloadStatus, 1)
	h.d.Reload(reply)
	<-reply
	d, _ := h.ipvs.last()
	if w, ok := weights(d)["192.168.0.102:80"]; !ok || w != 0 {
		t.Errorf("removed real server: present %v weight %d, want kept at weight 0 while draining", ok, w)
	}
}

func TestStuckMasterReleasesVIPs(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100)}
	h := newHarness(t, cfg)
	v := h.vrrp("VI_1")
	long := time.Now().Add(-time.Minute)
	v.heartbeat.Store(&long)
	v.events <- StateChange{Instance: "VI_1", From: "backup", To: "master"}
	h.eventually("VIPs of the stuck master released", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.released) == 1
	})
}

// TestTrackServiceLowersPriority: when every real server of a tracked service
// fails, the instance's priority is lowered by the track weight, and restored
// when one comes back.
func TestTrackServiceLowersPriority(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Services[0].Sorry = nil
	cfg.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 150)}
	cfg.TrackServices = []conf.TrackService{{Instance: "VI_1", Service: "web", Weight: 60}}
	h := newHarness(t, cfg)
	v := h.vrrp("VI_1")
	id1, id2 := RealID(key80, lvs.DestKey{Addr: rs1, Port: 80}), RealID(key80, lvs.DestKey{Addr: rs2, Port: 80})
	h.healthCh <- HealthChange{ID: id1, Up: false}
	if v.delta.Load() != 0 {
		t.Fatal("one of two real servers down lowered the priority")
	}
	h.healthCh <- HealthChange{ID: id2, Up: false}
	h.eventually("priority lowered by 60", func() bool { return v.delta.Load() == 60 })
	h.healthCh <- HealthChange{ID: id2, Up: true}
	h.eventually("priority restored", func() bool { return v.delta.Load() == 0 })
}

// TestHandoverSyncGroup: handing over every instance succeeds when one
// member of a sync group took the other along (that one reports not master),
// and fails clearly when nothing here is master.
func TestHandoverSyncGroup(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Instances = []vrrp.Config{instanceCfg("VI_EXT", 51, 150), instanceCfg("VI_INT", 52, 50)}
	h := newHarness(t, cfg)
	done, err := h.d.Handover(context.Background(), "")
	if err != nil || len(done) != 1 || done[0] != "VI_EXT" {
		t.Errorf("Handover() = %v, %v; want [VI_EXT], nil", done, err)
	}
	if _, err := h.d.Handover(context.Background(), "VI_INT"); err == nil || !strings.Contains(err.Error(), "not master") {
		t.Errorf("handing over a backup: %v, want a not-master error", err)
	}
	if _, err := h.d.Handover(context.Background(), "VI_NONE"); err == nil {
		t.Error("handing over an unknown instance succeeded")
	}
}
