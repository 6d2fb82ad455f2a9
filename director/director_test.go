package director

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/internal/clock"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/test/poll"
	"github.com/havsd/havsd/vrrp"
)

// fakeIPVS records every desired table it is given.
type fakeIPVS struct {
	mu       sync.Mutex
	desired  []lvs.Desired
	triggers atomic.Int32
	observed []lvs.Service
}

func (f *fakeIPVS) Trigger() { f.triggers.Add(1) }

func (f *fakeIPVS) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (f *fakeIPVS) SetDesired(d lvs.Desired) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.desired = append(f.desired, d)
}
func (f *fakeIPVS) Observed() []lvs.Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.observed
}
func (f *fakeIPVS) Status() IPVSStatus { return IPVSStatus{Available: true} }
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
	fault     atomic.Pointer[string]
	cfg       vrrp.Config
	report    Report
	updates   atomic.Int32
	stopped   chan struct{}
	fail      chan error    // a value makes Run return it (the loop "dies")
	hold      chan struct{} // if set, Run returns only once it is closed
	now       func() time.Time
	onRelease func(name string) // the dead-man switch released the VIPs
	released  atomic.Bool
	siblings  atomic.Pointer[[]uint8] // as built or last set
}

func (f *fakeVRRP) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		if f.hold != nil {
			<-f.hold
		}
		close(f.stopped)
		return nil
	case err := <-f.fail:
		return err
	}
}

// send reports a transition as the instance would.
func (f *fakeVRRP) send(from, to vrrp.State) {
	f.report(context.Background(), StateChange{Instance: f.cfg.Name, From: from, To: to, Reason: "test"})
}
func (f *fakeVRRP) Update(cfg vrrp.Config) { f.cfg = cfg; f.updates.Add(1) }
func (f *fakeVRRP) Handover(ctx context.Context) error {
	if f.cfg.Priority < 100 {
		return vrrp.ErrNotMaster // the tests' convention: low priority means backup
	}
	return nil
}
func (f *fakeVRRP) LowerPriority(n int) { f.delta.Store(int32(n)) }
func (f *fakeVRRP) Resume() bool        { return false }

func (f *fakeVRRP) SetTrackFault(reason string) { f.fault.Store(&reason) }
func (f *fakeVRRP) SetSiblings(vrids []uint8)   { f.siblings.Store(&vrids) }

// ReleaseIfStalled releases (once) when the heartbeat is older than
// vrrp.StallRelease, as the real instance does.
func (f *fakeVRRP) ReleaseIfStalled() (bool, time.Duration, error) {
	hb := f.heartbeat.Load()
	if hb == nil {
		return false, 0, nil
	}
	silent := f.now().Sub(*hb)
	if silent <= vrrp.StallRelease(f.cfg.AdvertInterval) || f.released.Swap(true) {
		return false, silent, nil
	}
	f.onRelease(f.cfg.Name)
	return true, silent, nil
}
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
	clock    *clock.Fake
	built    atomic.Int32
	next     atomic.Pointer[Loaded]
	loadFn   atomic.Pointer[func() Loaded] // if set, Load calls it instead of reading next
	loads    atomic.Int32
	cancel   context.CancelFunc
	done     chan error
}

func newHarness(t *testing.T, cfg *conf.Config) *harness {
	t.Helper()
	h := &harness{t: t, ipvs: &fakeIPVS{}, health: &fakeHealth{}, vrrps: map[string]*fakeVRRP{}, done: make(chan error, 1),
		clock: clock.NewFake(time.Now())}
	deps := Deps{
		Load: func() Loaded {
			h.loads.Add(1)
			if f := h.loadFn.Load(); f != nil {
				return (*f)()
			}
			return *h.next.Load()
		},
		NewVRRP: func(c vrrp.Config, sib []uint8, report Report) (VRRP, error) {
			f := &fakeVRRP{cfg: c, report: report, stopped: make(chan struct{}), fail: make(chan error, 1)}
			f.siblings.Store(&sib)
			f.now, f.onRelease = h.clock.Now, func(name string) {
				h.mu.Lock()
				h.released = append(h.released, name)
				h.mu.Unlock()
			}
			h.mu.Lock()
			h.vrrps[c.Name] = f
			h.mu.Unlock()
			h.built.Add(1)
			return f, nil
		},
		IPVS: h.ipvs,
		NewHealth: func(ch chan<- HealthChange) Health {
			h.healthCh = ch
			return h.health
		},
		Clock: h.clock,
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
	poll.Until(h.t, 5*time.Second, what, cond)
}

// reload asks for a reload and waits for its outcome.
func (h *harness) reload() ReloadStatus {
	h.t.Helper()
	st, err := h.d.Reload(context.Background())
	if err != nil {
		h.t.Fatalf("reload: %v", err)
	}
	return st
}

// status returns the director's status.
func (h *harness) status() Status {
	h.t.Helper()
	st, err := h.d.Status(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return st
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
	if st := h.reload(); st.OK || st.Diagnostics == "" {
		t.Fatalf("bad reload status = %+v", st)
	}
	if vi1.updates.Load() != 0 {
		t.Fatal("a rejected reload updated an instance")
	}

	// Same VRID renamed and reprioritised: updated in place; VI_2 removed; VI_3 added.
	cfg2 := webConfig(true, 0, 0)
	cfg2.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 150), instanceCfg("VI_3", 53, 100)}
	h.next.Store(&Loaded{Config: cfg2})
	if st := h.reload(); !st.OK {
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

// TestReloadTellsSiblings: a kept instance learns the VRIDs of the
// instances a reload added, removed or renumbered beside it, so their
// adverts are not counted as unknown-VRID drops.
func TestReloadTellsSiblings(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100), instanceCfg("VI_2", 60, 100)}
	h := newHarness(t, cfg)
	vi1 := h.vrrp("VI_1")
	if got := *vi1.siblings.Load(); !slices.Equal(got, []uint8{60}) {
		t.Fatalf("VI_1 built with siblings %v, want [60]", got)
	}
	for _, step := range []struct {
		vrids []uint8 // the other instances' VRIDs in the new file
		want  []uint8
	}{
		{[]uint8{61}, []uint8{61}},         // VI_2 renumbered
		{[]uint8{61, 70}, []uint8{61, 70}}, // VI_3 added
		{nil, nil},                         // both removed
	} {
		next := webConfig(true, 0, 0)
		next.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100)}
		for i, v := range step.vrids {
			next.Instances = append(next.Instances, instanceCfg(fmt.Sprintf("VI_%d", i+2), v, 100))
		}
		h.next.Store(&Loaded{Config: next})
		if st := h.reload(); !st.OK {
			t.Fatalf("reload = %+v", st)
		}
		if got := *vi1.siblings.Load(); !slices.Equal(got, step.want) {
			t.Errorf("after a reload with siblings %v: VI_1 has %v", step.vrids, got)
		}
	}
}

// blockLoop holds the director goroutine busy until the returned function
// is called, so that requests pile up meanwhile.
func (h *harness) blockLoop() (release func()) {
	h.t.Helper()
	entered, block := make(chan struct{}), make(chan struct{})
	go func() { _ = h.d.do(context.Background(), func() { close(entered); <-block }) }()
	<-entered
	return func() { close(block) }
}

// waitingReplies returns how many Reload calls wait for the next load.
func (h *harness) waitingReplies() int {
	h.d.reloadMu.Lock()
	defer h.d.reloadMu.Unlock()
	return len(h.d.waiting)
}

// TestReloadBurstCollapses: ten fire-and-forget requests and one waiting
// request made while the director is busy are one load.
func TestReloadBurstCollapses(t *testing.T) {
	h := newHarness(t, webConfig(true, 0, 0))
	release := h.blockLoop()
	for range 10 {
		h.d.RequestReload()
	}
	done := make(chan ReloadStatus, 1)
	go func() { done <- h.reload() }()
	h.eventually("the waiting request queued", func() bool { return h.waitingReplies() == 1 })
	release()
	st := <-done
	if n := h.loads.Load(); n != 1 || st.Count != 1 {
		t.Errorf("eleven reload requests: %d loads, status count %d; want 1 and 1", n, st.Count)
	}
}

// TestReloadRepliesCollapse: 200 concurrent requests that each wait for a
// reply are answered, all of them, by one load.
func TestReloadRepliesCollapse(t *testing.T) {
	const n = 200
	h := newHarness(t, webConfig(true, 0, 0))
	release := h.blockLoop()
	replies := make(chan ReloadStatus, n)
	for range n {
		go func() { replies <- h.reload() }()
	}
	h.eventually("every request queued", func() bool { return h.waitingReplies() == n })
	release()
	for i := range n {
		select {
		case st := <-replies:
			if !st.OK || st.Count != 1 {
				t.Fatalf("reply %d = %+v, want OK from the first load", i, st)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d requests answered", i, n)
		}
	}
	if got := h.loads.Load(); got != 1 {
		t.Errorf("%d waiting requests loaded the file %d times, want 1", n, got)
	}
}

// TestReloadDoesNotWaitForInstances: removing an instance whose loop takes
// its time to stop answers the reload at once; an instance re-added with
// the same VRID starts only after the old one has stopped.
func TestReloadDoesNotWaitForInstances(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100)}
	h := newHarness(t, cfg)
	old := h.vrrp("VI_1")
	old.hold = make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-old.hold:
		default:
			close(old.hold)
		}
	})

	h.next.Store(&Loaded{Config: webConfig(true, 0, 0)})
	if st := h.reload(); !st.OK || !strings.Contains(st.Summary, "instance VI_1 removed") {
		t.Fatalf("removing VI_1: %+v", st)
	}
	h.next.Store(&Loaded{Config: cfg})
	if st := h.reload(); !st.OK || !strings.Contains(st.Summary, "instance VI_1 added") {
		t.Fatalf("re-adding VI_1: %+v", st)
	}
	if n := h.built.Load(); n != 1 {
		t.Fatalf("the new VI_1 was built (%d instances) while the old one still runs", n)
	}
	close(old.hold)
	h.eventually("the new VI_1 started after the old one stopped", func() bool { return h.built.Load() == 2 })
	if h.vrrp("VI_1") == old {
		t.Error("VI_1 is still the old instance")
	}
}

func TestMasterOnlyFollowsState(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Global.IPVSMode = conf.IPVSMasterOnly
	cfg.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100)}
	h := newHarness(t, cfg)
	if d, _ := h.ipvs.last(); len(d.Services) != 0 {
		t.Fatalf("programmed %d services before becoming master", len(d.Services))
	}
	v := h.vrrp("VI_1")
	v.send(vrrp.StateBackup, vrrp.StateMaster)
	h.eventually("service programmed on master", func() bool { d, _ := h.ipvs.last(); return len(d.Services) == 1 })
	if st := h.status(); !st.Services[0].Wanted {
		t.Error("status: service not wanted on the master")
	}
	v.send(vrrp.StateMaster, vrrp.StateBackup)
	h.eventually("service withdrawn on backup", func() bool { d, _ := h.ipvs.last(); return len(d.Services) == 0 })
	if st := h.status(); st.Services[0].Wanted {
		t.Error("status: service wanted on a backup")
	}
	v.send(vrrp.StateBackup, vrrp.StateMaster)
	h.eventually("service programmed on master again", func() bool { d, _ := h.ipvs.last(); return len(d.Services) == 1 })
	v.fail <- errors.New("socket closed")
	h.eventually("service withdrawn when the master's loop died", func() bool { d, _ := h.ipvs.last(); return len(d.Services) == 0 })
	st := h.status()
	if in := st.Instances[0]; in.State != "stopped" || in.LastTransition == nil || in.LastTransition.From != "master" || in.Transitions != 4 {
		t.Errorf("status of the dead instance: state %q, last %+v, transitions %d; want stopped, from master, 4", in.State, in.LastTransition, in.Transitions)
	}
}

func TestDrainOnRemoval(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Services[0].DrainFor = time.Hour
	h := newHarness(t, cfg)
	cfg2 := webConfig(true, 0, 0)
	cfg2.Services[0].DrainFor = time.Hour
	cfg2.Services[0].Reals = cfg2.Services[0].Reals[:1]
	h.next.Store(&Loaded{Config: cfg2})
	h.reload()
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
	beat := h.clock.Now()
	v.heartbeat.Store(&beat)
	v.send(vrrp.StateBackup, vrrp.StateMaster)
	h.status() // the transition has been taken
	h.clock.Advance(vrrp.StallRelease(time.Second))
	h.status() // the watchdog has looked
	h.mu.Lock()
	early := len(h.released)
	h.mu.Unlock()
	if early != 0 {
		t.Fatal("VIPs released while the loop was on time")
	}
	h.clock.Advance(time.Second)
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

// TestStatusReadsTheOutcome: status reports foreign services (in the kernel,
// not in the desired table) and a reload asks for a full pass.
func TestStatusReadsTheOutcome(t *testing.T) {
	h := newHarness(t, webConfig(true, 0, 0))
	foreign := lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.UDP, Addr: vip, Port: 53}
	h.ipvs.mu.Lock()
	h.ipvs.observed = []lvs.Service{{Key: foreign}, {Key: key80}}
	h.ipvs.mu.Unlock()
	st := h.status()
	if len(st.IPVS.Foreign) != 1 || st.IPVS.Foreign[0] != foreign.String() {
		t.Errorf("foreign = %q, want [%q]", st.IPVS.Foreign, foreign.String())
	}
	if s := st.Services[0]; !s.Programmed || !s.Wanted || s.SorryActive {
		t.Errorf("service status = %+v, want programmed, wanted, sorry server idle", s)
	}
	if h.reload(); h.ipvs.triggers.Load() != 1 {
		t.Errorf("a reload asked for %d full passes, want 1", h.ipvs.triggers.Load())
	}
	// Every real server down: the sorry server takes over.
	for _, a := range []netip.Addr{rs1, rs2} {
		h.healthCh <- HealthChange{ID: RealID(key80, lvs.DestKey{Addr: a, Port: 80}), Up: false}
	}
	h.eventually("sorry server active in status", func() bool { return h.status().Services[0].SorryActive })
}

// TestDeferredInstanceGetsItsPriority: an instance that starts once the
// old one with its VRID has stopped is told the priority its tracked
// services call for.
func TestDeferredInstanceGetsItsPriority(t *testing.T) {
	cfg := webConfig(true, 0, 0)
	cfg.Services[0].Sorry = nil
	cfg.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 150)}
	cfg.TrackServices = []conf.TrackService{{Instance: "VI_1", Service: "web", Weight: 60}}
	h := newHarness(t, cfg)
	for _, a := range []netip.Addr{rs1, rs2} {
		h.healthCh <- HealthChange{ID: RealID(key80, lvs.DestKey{Addr: a, Port: 80}), Up: false}
	}
	old := h.vrrp("VI_1")
	h.eventually("priority lowered by 60", func() bool { return old.delta.Load() == 60 })
	old.hold = make(chan struct{})

	v2 := *cfg
	v2.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 150)}
	v2.Instances[0].Version = 2 // cannot change in place: replaced
	h.next.Store(&Loaded{Config: &v2})
	if st := h.reload(); !strings.Contains(st.Summary, "replaced (version 3→2)") {
		t.Fatalf("reload summary %q, want the instance replaced", st.Summary)
	}
	close(old.hold)
	h.eventually("the replacement started", func() bool { return h.built.Load() == 2 })
	h.eventually("the replacement's priority lowered by 60", func() bool { return h.vrrp("VI_1").delta.Load() == 60 })
}

// TestReloadRefusesEmptyConfig: a file with no vrrp_instance and no
// virtual_service reloaded over one that has any is refused and changes
// nothing (a truncated file would take the site down); an empty file over
// an empty one, or a non-empty file, is applied.
func TestReloadRefusesEmptyConfig(t *testing.T) {
	const refusal = "test.hcl: the new configuration is empty (no vrrp_instance, no virtual_service): reload refused; stop havsd to remove everything"
	withInstance := func() *conf.Config {
		c := webConfig(true, 0, 0)
		c.Instances = []vrrp.Config{instanceCfg("VI_1", 51, 100)}
		return c
	}
	onlyService := func() *conf.Config { return webConfig(true, 0, 0) }
	onlyInstance := func() *conf.Config { return &conf.Config{Instances: []vrrp.Config{instanceCfg("VI_1", 51, 100)}} }
	emptyCfg := func() *conf.Config { return &conf.Config{} }
	tests := []struct {
		name         string
		running, new func() *conf.Config
		refused      bool
	}{
		{"instance and service → empty", withInstance, emptyCfg, true},
		{"service only → empty", onlyService, emptyCfg, true},
		{"instance only → empty", onlyInstance, emptyCfg, true},
		{"empty → empty", emptyCfg, emptyCfg, false},
		{"empty → instance", emptyCfg, onlyInstance, false},
		{"instance and service → service only", withInstance, onlyService, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			running := tt.running()
			h := newHarness(t, running)
			before := h.status()
			h.next.Store(&Loaded{Config: tt.new()})
			st := h.reload()
			if !tt.refused {
				if !st.OK || strings.Contains(st.Diagnostics, "reload refused") {
					t.Fatalf("reload = %+v, want it applied", st)
				}
				return
			}
			if st.OK || !strings.Contains(st.Diagnostics, refusal) {
				t.Fatalf("reload = %+v, want refused with %q", st, refusal)
			}
			after := h.status()
			if len(after.Services) != len(before.Services) || len(after.Instances) != len(before.Instances) {
				t.Errorf("after a refused reload: %d services, %d instances; want %d, %d",
					len(after.Services), len(after.Instances), len(before.Services), len(before.Instances))
			}
			for _, in := range running.Instances {
				f := h.vrrp(in.Name)
				select {
				case <-f.stopped:
					t.Errorf("instance %s stopped by a refused reload", in.Name)
				default:
				}
			}
			if after.LastReload.OK || !strings.Contains(after.LastReload.Summary, "refused") {
				t.Errorf("status last_reload = %+v, want refused", after.LastReload)
			}
		})
	}
}
