package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

// advertCostConfig is one v3 instance at 10 ms with two VIPs.
func advertCostConfig() Config {
	return Config{Name: "VI_1", Interface: "eth0", VRID: 51, Priority: 100, Version: 3,
		AdvertInterval: 10 * time.Millisecond, VIPs: []VIP{{Prefix: netip.MustParsePrefix("10.9.0.100/24")},
			{Prefix: netip.MustParsePrefix("10.9.0.101/24")}}}
}

// advertPaths is a master's and a backup's per-advert work beside the
// socket, as the loop does it.
type advertPaths struct {
	tx     *loop // the master's
	rxVal  validator
	rxM    Machine
	params Params
	now    time.Time
	wire   []byte // an advert from the master, as read from the socket
	from   netip.Addr
}

func newAdvertPaths(t testing.TB) *advertPaths {
	t.Helper()
	cfg := advertCostConfig()
	master, backup := netip.MustParseAddr("10.9.0.2"), netip.MustParseAddr("10.9.0.1")
	a := &advertPaths{tx: &loop{cfg: cfg, local: master}, rxVal: newValidator(cfg, backup), from: master, now: time.Unix(0, 0),
		params: Params{Version: 3, Priority: 100, AdvertInterval: cfg.AdvertInterval, Local: backup}}
	a.tx.val = newValidator(cfg, master)
	a.send()
	a.wire = append([]byte(nil), a.tx.sendBuf...)
	a.rxM, _, _ = Step(Machine{State: StateInit}, a.params, Input{Kind: EvStartup}, a.now)
	a.receive()
	if a.rxM.State != StateBackup {
		t.Fatalf("backup in %v after an advert", a.rxM.State)
	}
	return a
}

// send is loop.send's work before the socket: build and seal the advert.
func (a *advertPaths) send() {
	p := a.tx.advert(200)
	b, err := p.sealInto(a.tx.sendBuf, a.tx.local, MulticastIPv4)
	if err != nil {
		panic(err)
	}
	a.tx.sendBuf = b
}

// receive is the reader's copy and loop.receive's work: validate, compare
// the VIP list, step the machine, release the datagram.
func (a *advertPaths) receive() {
	d := Datagram{Src: a.from, Dst: MulticastIPv4, TTL: 255, Data: pooledCopy(a.wire)}
	p, reason, _ := a.rxVal.check(d)
	if reason != DropNone {
		panic("advert dropped: " + reason.String())
	}
	if same, _ := a.rxVal.sameVIPs(p); !same {
		panic("VIP list differs")
	}
	a.now = a.now.Add(a.params.AdvertInterval)
	a.rxM, _, _ = Step(a.rxM, a.params, Input{Kind: EvAdvert, Advert: Advert{Src: d.Src, Priority: p.Priority, Interval: p.AdvertInterval}}, a.now)
	release(d)
}

// TestAdvertPathsAllocateNothing: the loop's own work per advert, sending
// and receiving, allocates nothing (issue 14; the socket calls below it
// are not counted).
func TestAdvertPathsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: the race detector makes sync.Pool drop buffers at random")
	}
	a := newAdvertPaths(t)
	for _, tt := range []struct {
		name string
		f    func()
	}{{"send", a.send}, {"receive", a.receive}} {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, tt.f); n != 0 {
				t.Errorf("%s path: %v allocations per advert, want 0", tt.name, n)
			}
		})
	}
	if a.rxM.State != StateBackup {
		t.Errorf("backup in %v after the adverts", a.rxM.State)
	}
}

// BenchmarkAdvertSend is a master's per-advert work before the socket.
func BenchmarkAdvertSend(b *testing.B) {
	a := newAdvertPaths(b)
	b.ReportAllocs()
	for b.Loop() {
		a.send()
	}
}

// BenchmarkAdvertReceive is a backup's per-advert work after the socket.
func BenchmarkAdvertReceive(b *testing.B) {
	a := newAdvertPaths(b)
	b.ReportAllocs()
	for b.Loop() {
		a.receive()
	}
}
