package vrrp

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLinks is a LinkWatcher driven by the test; a new watch reports each
// link as last sent (up at first), as netlink's ListExisting would.
type fakeLinks struct {
	ch   chan LinkState
	mu   sync.Mutex
	last map[string]LinkState
}

func (f *fakeLinks) Watch(ctx context.Context, names []string, out chan<- LinkState) error {
	for _, n := range names {
		f.mu.Lock()
		ls, ok := f.last[n]
		f.mu.Unlock()
		if !ok {
			ls = LinkState{Name: n, Up: true, Index: 1}
		}
		select {
		case out <- ls:
		case <-ctx.Done():
			return nil
		}
	}
	for {
		select {
		case ls := <-f.ch:
			f.mu.Lock()
			if f.last == nil {
				f.last = map[string]LinkState{}
			}
			f.last[ls.Name] = ls
			f.mu.Unlock()
			select {
			case out <- ls:
			case <-ctx.Done():
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

func TestTrackedInterfaceAndSyncGroup(t *testing.T) {
	lb := newLab(t)
	links := &fakeLinks{ch: make(chan LinkState, 4)}
	ca := testConfig("ext", 200)
	ca.Track = []TrackInterface{{Name: "eth1"}}
	cb := testConfig("int", 200)
	cb.VRID = 52
	cb.VIPs = []VIP{{Prefix: netip.MustParsePrefix("10.1.0.1/24")}}
	dir := t.TempDir()
	cb.Notify.Fault = []string{"/usr/bin/touch", filepath.Join(dir, "int-fault")}
	cb.Notify.Master = []string{"/nonexistent/notify"} // fails: logged, never blocks

	mk := func(cfg Config, local string, w LinkWatcher) *director {
		d := &director{vips: newFakeVIPs(cfg.Name, lb.ops), conn: lb.hub.conn(netip.MustParseAddr(local)), done: make(chan error, 1)}
		inst, err := NewInstance(cfg, Options{Conn: d.conn, VIPs: d.vips, Clock: lb.clock, Links: w, Addrs: noAddrs{}, Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		d.inst = inst
		return d
	}
	a := mk(ca, "10.0.0.1", links)
	b := mk(cb, "10.0.0.1", &fakeLinks{})
	if _, err := NewGroup(SyncGroup{Name: "g", Instances: []string{"ext", "int"}}, []*Instance{a.inst, b.inst}, discard()); err != nil {
		t.Fatal(err)
	}
	lb.run(a, "ext")
	lb.run(b, "int")
	lb.waitFor("both master", func() bool { return a.state() == StateMaster && b.state() == StateMaster })

	links.ch <- LinkState{Name: "eth1", Up: false}
	lb.waitFor("both fault", func() bool { return a.state() == StateFault && b.state() == StateFault })
	if a.vips.has(vip100) || b.vips.has(netip.MustParsePrefix("10.1.0.1/24")) {
		t.Errorf("VIPs kept in FAULT")
	}
	lb.waitFor("fault notify ran", func() bool {
		_, err := os.Stat(filepath.Join(dir, "int-fault"))
		return err == nil
	})
	links.ch <- LinkState{Name: "eth1", Up: true}
	lb.waitFor("both master again", func() bool { return a.state() == StateMaster && b.state() == StateMaster })

	// Weighted tracking lowers the priority instead.
	ca.Track = []TrackInterface{{Name: "eth1", Weight: 50}}
	if err := a.inst.Update(ca); err != nil {
		t.Fatal(err)
	}
	links.ch <- LinkState{Name: "eth1", Up: false}
	lb.waitFor("priority lowered", func() bool { return a.inst.Status().EffectivePriority == 150 })
	if a.state() != StateMaster {
		t.Errorf("weighted track: state %v, want MASTER", a.state())
	}

	// A reload rebinds the running instances to a new group.
	if _, err := NewGroup(SyncGroup{Name: "g2"}, []*Instance{a.inst, b.inst}, discard()); err != nil {
		t.Fatalf("rebinding: %v", err)
	}
	ca.Track = []TrackInterface{{Name: "eth1"}}
	if err := a.inst.Update(ca); err != nil {
		t.Fatal(err)
	}
	lb.waitFor("both fault in the new group", func() bool { return a.state() == StateFault && b.state() == StateFault })
	links.ch <- LinkState{Name: "eth1", Up: true}
	lb.waitFor("both master once more", func() bool { return a.state() == StateMaster && b.state() == StateMaster })
	if _, err := NewGroup(SyncGroup{Name: "dup"}, []*Instance{a.inst, a.inst}, discard()); err == nil {
		t.Errorf("NewGroup accepted an instance twice")
	}
}

func TestNotifierNeverBlocks(t *testing.T) {
	n := newNotifier(discard(), 100*time.Millisecond)
	go n.run()
	start := time.Now()
	for range 200 { // more than the queue holds
		n.enqueue([]string{"/bin/sleep", "10"}, nil)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("enqueue blocked for %v", el)
	}
	n.close() // each job is killed at its timeout
}

func TestEnvNoShell(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	n := newNotifier(discard(), 5*time.Second)
	go n.run()
	// An argument with shell syntax reaches the program verbatim.
	n.enqueue([]string{"/usr/bin/touch", out + "; echo pwned"}, []string{"HAVSD_STATE=MASTER"})
	n.close()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), "; echo pwned") {
		t.Errorf("files %v, want one named with the literal argument", entries)
	}
}

// TestStopInterruptedByFault: a master that is stopping (priority 0, VIPs
// kept) and then faults still finishes its stop.
func TestStopInterruptedByFault(t *testing.T) {
	lb := newLab(t)
	links := &fakeLinks{ch: make(chan LinkState, 4)}
	cfg := testConfig("a", 200)
	cfg.Track = []TrackInterface{{Name: "eth1"}}
	d := &director{vips: newFakeVIPs("a", lb.ops), conn: lb.hub.conn(netip.MustParseAddr("10.0.0.1")), done: make(chan error, 1)}
	inst, err := NewInstance(cfg, Options{Conn: d.conn, VIPs: d.vips, Clock: lb.clock, Links: links, Addrs: noAddrs{}, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	d.inst = inst
	ctx, cancel := context.WithCancel(context.Background())
	go func() { d.done <- inst.Run(ctx) }()
	lb.waitFor("master", func() bool { return d.state() == StateMaster })
	cancel()
	links.ch <- LinkState{Name: "eth1", Up: false}
	lb.waitFor("Run returned", func() bool { return len(d.done) == 1 })
	if err := <-d.done; err != nil || d.vips.has(vip100) {
		t.Errorf("Run = %v, VIP kept %v", err, d.vips.has(vip100))
	}
}
