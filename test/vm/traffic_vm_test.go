//go:build linux

package vm

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/realserver"
)

// tcpService is a TCP virtual service on vip:port over both real servers.
func tcpService(vip netip.Addr, port uint16, sched string, fwd lvs.Forward, weights ...int) lvs.Service {
	s := lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: vip, Port: port}, Scheduler: sched}
	for i, a := range rsAddrs {
		w := 1
		if i < len(weights) {
			w = weights[i]
		}
		s.Destinations = append(s.Destinations, lvs.Destination{Addr: a, Port: port, Weight: w, Forward: fwd})
	}
	return s
}

// servers returns the server of each reply, in order.
func servers(rs []reply) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Server)
	}
	return out
}

func count(names []string) map[string]int {
	m := map[string]int{}
	for _, n := range names {
		m[n]++
	}
	return m
}

// TestSchedulingNAT checks that the NAT labs of the tutorial distribute new
// connections as their schedulers promise, and that the real servers see the
// client's own address.
func TestSchedulingNAT(t *testing.T) {
	needVM(t)
	tests := []struct {
		name    string
		sched   string
		weights []int
		n       int
		want    map[string]int
	}{
		{"rr alternates", "rr", []int{1, 1}, 6, map[string]int{"rs1": 3, "rs2": 3}},
		{"wrr 2:1", "wrr", []int{2, 1}, 9, map[string]int{"rs1": 6, "rs2": 3}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			vip := netip.AddrFrom4([4]byte{10, 10, 0, byte(100 + i)})
			addVIP(t, vip)
			l.apply(t, lvs.Desired{Services: []lvs.Service{tcpService(vip, 80, tt.sched, lvs.Masq, tt.weights...)}})
			var rs []reply
			for range tt.n {
				rs = append(rs, fetch(t, clientIP, netip.AddrPortFrom(vip, 80)))
			}
			got := servers(rs)
			t.Logf("%s: %v", tt.name, got)
			if c := count(got); c["rs1"] != tt.want["rs1"] || c["rs2"] != tt.want["rs2"] {
				t.Errorf("distribution %v, want %v\n%s", c, tt.want, ipvsadmList(t))
			}
			if tt.sched == "rr" {
				for j := 1; j < len(got); j++ {
					if got[j] == got[j-1] {
						t.Errorf("rr sent connections %d and %d both to %s: %v", j-1, j, got[j], got)
					}
				}
			}
			for _, r := range rs {
				if r.Remote.Addr() != clientIP || r.Local.Port() != 80 || !slices.Contains(rsAddrs, r.Local.Addr()) {
					t.Errorf("NAT: %s saw %s -> %s, want client %s -> its own address:80", r.Server, r.Remote, r.Local, clientIP)
				}
			}
		})
	}
}

// TestForwardingMethods sends real traffic through each forwarding method
// and checks, from the real server's side, how the packets arrived: NAT
// rewrites the destination, DR and TUN keep the VIP as destination, full-NAT
// also rewrites the source to the director's address.
func TestForwardingMethods(t *testing.T) {
	needVM(t)
	tests := []struct {
		name       string
		fwd        lvs.Forward
		rsMode     realserver.Mode // DR and TUN real servers carry the VIP
		fullNAT    bool
		wantLocal  func(vip, rs netip.Addr) netip.Addr
		wantRemote netip.Addr
	}{
		{"nat", lvs.Masq, 0, false, func(_, rs netip.Addr) netip.Addr { return rs }, clientIP},
		{"dr", lvs.Route, realserver.ModeDR, false, func(vip, _ netip.Addr) netip.Addr { return vip }, clientIP},
		{"tun", lvs.Tunnel, realserver.ModeTUN, false, func(vip, _ netip.Addr) netip.Addr { return vip }, clientIP},
		{"full-nat", lvs.Masq, 0, true, func(_, rs netip.Addr) netip.Addr { return rs }, dirInt},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			vip := netip.AddrFrom4([4]byte{10, 10, 0, byte(110 + i)})
			addVIP(t, vip)
			if tt.rsMode != 0 {
				for _, ns := range rsNS {
					cfg := realserver.Config{VIP: netip.PrefixFrom(vip, 32), Mode: tt.rsMode}
					err := inNS(ns, func() error {
						done, err := realserver.Setup(cfg)
						t.Logf("%s: %s", ns, strings.Join(done, "; "))
						return err
					})
					if err != nil {
						t.Fatalf("preparing real server %s for %s: %v", ns, tt.rsMode, err)
					}
					t.Cleanup(func() {
						if err := inNS(ns, func() error { _, err := realserver.Undo(cfg); return err }); err != nil {
							t.Errorf("undoing real server %s: %v", ns, err)
						}
					})
				}
			}
			d := lvs.Desired{Services: []lvs.Service{tcpService(vip, 80, "rr", tt.fwd)}}
			if tt.fullNAT {
				// Without a route back through the director, replies can
				// only return because the director is their destination.
				for _, ns := range rsNS {
					mustIP(t, ns, "route del default\n")
					t.Cleanup(func() { mustIP(t, ns, "route add default via "+dirInt.String()+"\n") })
				}
				for _, a := range rsAddrs {
					d.SNAT = append(d.SNAT, lvs.SNATRule{Dest: lvs.DestKey{Addr: a, Port: 80}, Proto: lvs.TCP, Source: dirInt})
				}
				t.Cleanup(func() { diagnoseSNATPort(t, vip) })
			}
			l.apply(t, d)
			seen := map[string]bool{}
			for range 4 {
				r := fetch(t, clientIP, netip.AddrPortFrom(vip, 80))
				seen[r.Server] = true
				rs := rsAddrs[slices.Index(rsNames, r.Server)]
				if r.Local != netip.AddrPortFrom(tt.wantLocal(vip, rs), 80) || r.Remote.Addr() != tt.wantRemote {
					t.Errorf("%s saw %s -> %s, want %s -> %s:80", r.Server, r.Remote, r.Local, tt.wantRemote, tt.wantLocal(vip, rs))
				}
			}
			if len(seen) != 2 {
				t.Errorf("rr reached %v, want both real servers\n%s", seen, ipvsadmList(t))
			}
		})
	}
}

// diagnoseSNATPort explains a failed full-NAT test whose conntrack entries
// show the source port translated to 0, the sign of an SNAT rule that flags
// a port range without giving one.
func diagnoseSNATPort(t *testing.T, vip netip.Addr) {
	t.Helper()
	if !t.Failed() {
		return
	}
	// /proc/net follows the thread group leader, which a namespace switch
	// may have taken along; thread-self is this (root namespace) thread.
	b, err := os.ReadFile("/proc/thread-self/net/nf_conntrack")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "dst="+vip.String()+" ") && strings.Contains(line, "dst="+dirInt.String()+" sport=80 dport=0 ") {
			t.Errorf("the SNAT mapped the client's source port to 0 (conntrack: %s): the rule sets NF_NAT_RANGE_PROTO_SPECIFIED without a port range (expr.NAT Specified without RegProtoMin/Max)", strings.TrimSpace(line))
			return
		}
	}
}

// TestSourceHashSticks checks that sh sends every connection of one client
// address to the same real server.
func TestSourceHashSticks(t *testing.T) {
	l := newLab(t)
	vip := netip.MustParseAddr("10.10.0.120")
	addVIP(t, vip)
	l.apply(t, lvs.Desired{Services: []lvs.Service{tcpService(vip, 80, "sh", lvs.Masq)}})
	dist := map[string]string{}
	for c := range 6 {
		src := netip.AddrFrom4([4]byte{10, 10, 0, byte(2 + c)})
		var got []string
		for range 4 {
			got = append(got, fetch(t, src, netip.AddrPortFrom(vip, 80)).Server)
		}
		if count(got)[got[0]] != len(got) {
			t.Errorf("sh: client %s reached %v, want one server", src, got)
		}
		dist[src.String()] = got[0]
	}
	t.Logf("sh: client -> server %v", dist)
}

// TestFWMarkPersistence is the tutorial's fwmark lab: ports 80 and 443 of
// the VIP marked alike and balanced as one persistent service, so one
// client's connections to both ports land on the same real server.
func TestFWMarkPersistence(t *testing.T) {
	l := newLab(t)
	vip := netip.MustParseAddr("10.10.0.121")
	addVIP(t, vip)
	const mark = 80
	svc := lvs.Service{Key: lvs.ServiceKey{Family: lvs.IPv4, FWMark: mark}, Scheduler: "rr", Timeout: 300 * time.Second}
	for _, a := range rsAddrs {
		svc.Destinations = append(svc.Destinations, lvs.Destination{Addr: a, Weight: 1, Forward: lvs.Masq})
	}
	l.apply(t, lvs.Desired{
		Services: []lvs.Service{svc},
		Marks:    []lvs.MarkRule{{Mark: mark, Addr: vip, Proto: lvs.TCP, Ports: []uint16{80, 443}}},
	})
	used := map[string]bool{}
	for c := range 4 {
		src := netip.AddrFrom4([4]byte{10, 10, 0, byte(2 + c)})
		var got []string
		for _, port := range []uint16{80, 443, 80, 443} {
			r := fetch(t, src, netip.AddrPortFrom(vip, port))
			if r.Local.Port() != port {
				t.Errorf("connection to port %d reached port %d of %s", port, r.Local.Port(), r.Server)
			}
			got = append(got, r.Server)
		}
		if count(got)[got[0]] != len(got) {
			t.Errorf("fwmark persistence: client %s reached %v over ports 80,443,80,443, want one server", src, got)
		}
		used[got[0]] = true
	}
	if len(used) != 2 {
		t.Errorf("rr over four new clients used %v, want both real servers\n%s", used, ipvsadmList(t))
	}
}

// TestEstablishedSurvivesReconcile holds a TCP connection through one
// service while a reconcile adds a service and changes another's weights:
// the unchanged service is not touched and the connection goes on, to the
// same real server.
func TestEstablishedSurvivesReconcile(t *testing.T) {
	l := newLab(t)
	vip := netip.MustParseAddr("10.10.0.122")
	addVIP(t, vip)
	held := tcpService(vip, 8080, "rr", lvs.Masq)
	other := tcpService(vip, 80, "wrr", lvs.Masq, 1, 1)
	l.apply(t, lvs.Desired{Services: []lvs.Service{held, other}})

	c := dial(t, clientIP, netip.AddrPortFrom(vip, 8080))
	before := c.ask(t)

	changed := tcpService(vip, 80, "wrr", lvs.Masq, 3, 1)
	added := tcpService(vip, 443, "rr", lvs.Masq)
	res := l.apply(t, lvs.Desired{Services: []lvs.Service{held, changed, added}})
	var ops []string
	for _, op := range res.Applied {
		ops = append(ops, op.String())
		if op.Service.Key == held.Key {
			t.Errorf("reconcile touched the unchanged service: %s", op)
		}
	}
	t.Logf("reconcile applied: %s", strings.Join(ops, "; "))
	if len(res.Applied) != 4 { // one weight, one service, two real servers
		t.Errorf("reconcile applied %d operations, want 4: %v", len(res.Applied), ops)
	}
	for i := range 3 {
		after := c.ask(t)
		if after != before {
			t.Errorf("exchange %d after reconcile: %+v, want the same connection as before: %+v", i, after, before)
		}
	}
	// The other services carry traffic as reconciled.
	for _, port := range []uint16{80, 443} {
		if r := fetch(t, clientIP, netip.AddrPortFrom(vip, port)); r.Local.Port() != port {
			t.Errorf("port %d reached %s:%d", port, r.Server, r.Local.Port())
		}
	}
	if t.Failed() {
		t.Log(ipvsadmList(t))
	}
}
