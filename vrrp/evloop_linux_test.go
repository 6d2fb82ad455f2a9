package vrrp

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/havsd/havsd/test/poll"
)

// udpDirector is an instance on the real clock whose RawConn runs over a
// UDP socket on loopback, so that its loop waits in the event loop.
type udpDirector struct {
	inst *Instance
	vips *fakeVIPs
	pc   net.PacketConn
	rc   *RawConn
	stop context.CancelFunc
	done chan error
}

// startUDPPair starts two instances that advertise to each other by
// unicast over UDP on loopback (a at 127.0.0.2, b at 127.0.0.3).
func startUDPPair(t *testing.T, ca, cb Config) (a, b *udpDirector) {
	t.Helper()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no loopback interface")
	}
	addrA, addrB := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	open := func(cfg Config, local, peer netip.Addr) *udpDirector {
		cfg.Interface = "lo"
		cfg.UnicastSource, cfg.UnicastPeers = local, []netip.Addr{peer}
		pc, err := net.ListenPacket("udp4", local.String()+":0")
		if err != nil {
			t.Fatal(err)
		}
		rc, err := newRawConn(cfg, lo, local, pc)
		if err != nil {
			pc.Close()
			t.Fatal(err)
		}
		d := &udpDirector{vips: newFakeVIPs(cfg.Name, &opLog{}), pc: pc, rc: rc, done: make(chan error, 1)}
		d.inst, err = NewInstance(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Conn: rc,
			VIPs: d.vips, Links: &fakeLinks{ch: make(chan LinkState, 4)}, Addrs: d.vips})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b = open(ca, addrA, addrB), open(cb, addrB, addrA)
	a.rc.port = b.pc.LocalAddr().(*net.UDPAddr).Port
	b.rc.port = a.pc.LocalAddr().(*net.UDPAddr).Port
	for _, d := range []*udpDirector{a, b} {
		ctx, cancel := context.WithCancel(context.Background())
		d.stop = cancel
		go func() { d.done <- d.inst.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			select {
			case <-d.done:
			case <-time.After(10 * time.Second):
				t.Errorf("%s: Run did not return", d.inst.Name())
			}
		})
	}
	return a, b
}

func (d *udpDirector) state() State { return d.inst.Status().State }

// TestEventLoopElection runs an election through the event loop: the
// higher priority becomes master and the other backup, counting its
// adverts; a handover (through the mailbox, which kicks the loop) makes
// them swap; stopping the new master (the context, which kicks it too) makes
// it advertise priority 0 and the backup take over.
func TestEventLoopElection(t *testing.T) {
	iv := 50 * time.Millisecond
	ca, cb := testConfig("a", 200), testConfig("b", 100)
	ca.AdvertInterval, cb.AdvertInterval = iv, iv
	a, b := startUDPPair(t, ca, cb)
	poll.Until(t, 10*time.Second, "a MASTER and b BACKUP", func() bool {
		return a.state() == StateMaster && b.state() == StateBackup
	})
	if a.inst.ev.Load() == nil || b.inst.ev.Load() == nil {
		t.Fatal("the loops do not wait in their event loops")
	}
	r := b.inst.Status().Received
	poll.Until(t, 10*time.Second, "b hearing 10 more adverts", func() bool { return b.inst.Status().Received >= r+10 })
	if a.state() != StateMaster || b.state() != StateBackup {
		t.Fatalf("states changed while adverts flowed: a %v b %v", a.state(), b.state())
	}
	if !a.vips.has(vip100) || b.vips.has(vip100) {
		t.Fatalf("VIP held by a %v, by b %v", a.vips.has(vip100), b.vips.has(vip100))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.inst.Handover(ctx); err != nil {
		t.Fatalf("handover: %v", err)
	}
	poll.Until(t, 10*time.Second, "b MASTER and a BACKUP after the handover", func() bool {
		return b.state() == StateMaster && a.state() == StateBackup
	})

	b.stop()
	select {
	case err := <-b.done:
		if err != nil {
			t.Fatalf("b's Run: %v", err)
		}
		b.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("b's Run did not return after its context ended")
	}
	poll.Until(t, 10*time.Second, "a MASTER after b stopped", func() bool { return a.state() == StateMaster })
	if got := a.inst.Status().Received; got == 0 {
		t.Errorf("a received no adverts")
	}
}

// TestEventLoopReadAllocatesNothing: reading a queued advert without
// waiting allocates nothing.
func TestEventLoopReadAllocatesNothing(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no loopback interface")
	}
	local := netip.MustParseAddr("127.0.0.1")
	cfg := testConfig("a", 100)
	cfg.Interface, cfg.UnicastPeers = "lo", []netip.Addr{local}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := newRawConn(cfg, lo, local, pc)
	if err != nil {
		pc.Close()
		t.Fatal(err)
	}
	defer c.Close()
	c.port = pc.LocalAddr().(*net.UDPAddr).Port
	p := Packet{Version: 3, Type: 1, VRID: 51, Priority: 100, AdvertInterval: 100 * time.Millisecond, Addresses: []netip.Addr{vip100.Addr()}}
	wire, err := p.Seal(local, local)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	if _, ok, err := c.readNow(buf); ok || err != nil {
		t.Fatalf("readNow on an empty socket: ok %v err %v", ok, err)
	}
	n := testing.AllocsPerRun(100, func() {
		if err := c.WriteTo(wire, local); err != nil {
			panic(err)
		}
		var ok bool
		for !ok {
			var err error
			if _, ok, err = c.readNow(buf); err != nil {
				panic(err)
			}
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per advert sent and read, want 0", n)
	}
}
