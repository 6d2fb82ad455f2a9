package bgp

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/need"
	"github.com/havsd/havsd/test/poll"
)

// The BIRD test's layout: a router namespace "r" running BIRD 2 and a
// director namespace "d" running the speaker (this test binary, re-executed
// there), on one bridge. The router has one address per kind of neighbour
// the speaker tries; the director has one source address per bad session so
// that BIRD can tell them apart.
const (
	birdASN     = 65000
	speakerASN  = 65001
	birdGoodV4  = "10.98.0.1" // BIRD, ASN 65000, peers with the director's .2
	birdGoodV6  = "fd98::1"   // BIRD, IPv6 session with fd98::2
	birdWrongAS = "10.98.0.9" // BIRD is 65000; the speaker expects 65099
	birdMD5     = "10.98.0.7" // BIRD wants password "right"; the speaker sends "wrong"
	birdRefused = "10.98.0.8" // the speaker connects to port 1790, where nothing listens
	birdInbound = "10.98.0.6" // BIRD connects to the speaker's listen port; the speaker's own attempts go to a closed port
	dirListen   = "10.98.0.5" // director address BIRD connects to
	listenPort  = 1179
	birdFar     = "10.99.0.2"  // BIRD's address behind the forwarder: one routed hop away
	dirFar      = "10.98.0.12" // director's source for the multihop session
	farNet      = "10.99.0.0/24"
	fwLan       = "10.98.0.30"
	fwFar       = "10.99.0.1"
	dirV4       = "10.98.0.2" // director, good session
	dirV6       = "fd98::2"   // director, IPv6 session
	dirWrongAS  = "10.98.0.4" // director's source for the wrong-ASN session
	dirMD5      = "10.98.0.3" // director's source for the MD5 session
	vip4        = "192.0.2.10/32"
	birdStatic  = "198.51.100.0/24" // BIRD sends it to the speaker, which must not take it
	vip6        = "2001:db8:10::10/128"
	childEnv    = "HAVSD_BGP_BIRD_CHILD"
	birdPeerV4  = "good4"
	birdPeerV6  = "good6"
	birdPeerMD5 = "badpass"
)

// birdConf is the router's configuration: BGP sessions with the director,
// every route imported and exported to the kernel table.
func birdConf() string {
	return fmt.Sprintf(`log stderr all;
router id %[1]s;
protocol device { scan time 10; }
protocol kernel { ipv4 { import none; export all; }; }
protocol kernel { ipv6 { import none; export all; }; }
protocol static { ipv4; route %[14]s blackhole; }
template bgp dir {
  local as %[2]d;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 2;
  graceful restart off;
}
protocol bgp %[8]s from dir {
  local %[1]s as %[2]d;
  neighbor %[3]s as %[4]d;
  ipv4 { import all; export where source = RTS_STATIC; };
}
protocol bgp %[9]s from dir {
  local %[5]s as %[2]d;
  neighbor %[6]s as %[4]d;
  ipv6 { import all; export none; };
}
protocol bgp wrongas from dir {
  local %[7]s as %[2]d;
  neighbor %[10]s as %[4]d;
  ipv4 { import all; export none; };
}
protocol bgp inbound from dir {
  local %[15]s as %[2]d;
  neighbor %[16]s port %[17]d as %[4]d;
  ipv4 { import all; export none; };
}
protocol bgp far from dir {
  local %[18]s as %[2]d;
  neighbor %[19]s as %[4]d;
  multihop 2;
  ipv4 { import all; export none; };
}
protocol bgp %[11]s from dir {
  local %[12]s as %[2]d;
  neighbor %[13]s as %[4]d;
  password "right";
  ipv4 { import all; export none; };
}
`, birdGoodV4, birdASN, dirV4, speakerASN, birdGoodV6, dirV6, birdWrongAS, birdPeerV4, birdPeerV6,
		dirWrongAS, birdPeerMD5, birdMD5, dirMD5, birdStatic, birdInbound, dirListen, listenPort, birdFar, dirFar)
}

// birdEnv is what the parent hands the re-executed child.
type birdEnv struct {
	RouterNS string // for ip -n
	Socket   string // BIRD's control socket
}

// TestSpeakerAgainstBIRD peers the speaker with a real BIRD 2 in network
// namespaces. The parent builds the namespaces and starts BIRD; the test
// binary re-executes itself inside the director namespace, where the
// speaker runs, and the child makes the assertions.
func TestSpeakerAgainstBIRD(t *testing.T) {
	var env birdEnv
	if inChild(t, &env) {
		speakerAgainstBIRD(t, env)
		return
	}
	need.Root(t, "creates network namespaces and runs BIRD in one")
	need.Binaries(t, "ip", "bird", "birdc")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topo, dir := labTopology(t, ctx)
	conf := filepath.Join(dir, "bird.conf")
	if err := os.WriteFile(conf, []byte(birdConf()), 0o644); err != nil {
		t.Fatal(err)
	}
	var birdLog bytes.Buffer // read only after BIRD has exited
	sock := filepath.Join(dir, "bird.ctl")
	bird, err := topo.Start("r", "bird", []string{"bird", "-f", "-c", conf, "-s", sock, "-P", filepath.Join(dir, "bird.pid")}, netlab.ProcOptions{Out: &birdLog})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		bird.Stop(5 * time.Second)
		if t.Failed() {
			t.Logf("BIRD's log:\n%s", birdLog.String())
		}
	}()
	if !poll.For(10*time.Second, func() bool { return exec.Command("birdc", "-s", sock, "show", "status").Run() == nil }) {
		t.Fatal("BIRD never answered on its control socket")
	}
	runSpeakerSide(t, ctx, topo, birdEnv{RouterNS: topo.NS("r"), Socket: sock})
}

// speakerAgainstBIRD runs in the director namespace.
func speakerAgainstBIRD(t *testing.T, env birdEnv) {
	good4, good6 := netip.MustParseAddr(birdGoodV4), netip.MustParseAddr(birdGoodV6)
	wrongAS, md5, refused := netip.MustParseAddr(birdWrongAS), netip.MustParseAddr(birdMD5), netip.MustParseAddr(birdRefused)
	inbound, far := netip.MustParseAddr(birdInbound), netip.MustParseAddr(birdFar)
	cfg := Config{
		ASN: speakerASN, RouterID: netip.MustParseAddr(dirV4), Communities: []string{"65000:100"},
		Neighbors: []Neighbor{
			{Address: good4, ASN: birdASN, HoldTime: 9 * time.Second, Source: netip.MustParseAddr(dirV4)},
			{Address: good6, ASN: birdASN, HoldTime: 9 * time.Second},
			{Address: wrongAS, ASN: 65099, Source: netip.MustParseAddr(dirWrongAS)},
			{Address: md5, ASN: birdASN, Password: "wrong", Source: netip.MustParseAddr(dirMD5)},
			{Address: refused, ASN: birdASN, Port: 1790},
			{Address: inbound, ASN: birdASN, Port: 1790},
			{Address: far, ASN: birdASN, Multihop: 2, Source: netip.MustParseAddr(dirFar)},
		},
		ListenPort: listenPort,
	}
	log, rec := newLogRecorder(t)
	s, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	defer stop()
	b := birdc{t: t, sock: env.Socket}
	r := router{t: t, ns: env.RouterNS}

	t.Run("established", func(t *testing.T) {
		waitNeighbor(t, s, good4, "IPv4 session established", NeighborStatus.Established)
		waitNeighbor(t, s, good6, "IPv6 session established", NeighborStatus.Established)
		poll.Until(t, 10*time.Second, "BIRD to see both sessions established", func() bool {
			out := b.run("show", "protocols")
			return birdState(out, birdPeerV4) == "Established" && birdState(out, birdPeerV6) == "Established"
		})
		// hold_time 9s offered, BIRD offers 240 s: the session holds 9 s
		// and the speaker's keepalive is a third of it.
		all := b.run("show", "protocols", "all", birdPeerV4)
		if !regexp.MustCompile(`Hold timer:\s+[0-9.]+/9\b`).MatchString(all) || !regexp.MustCompile(`Keepalive timer:\s+[0-9.]+/3\b`).MatchString(all) {
			t.Errorf("BIRD's session does not hold 9 s with 3 s keepalives:\n%s", all)
		}
	})
	t.Run("listen port accepts", func(t *testing.T) {
		// The speaker cannot reach this neighbour (port 1790 is closed):
		// the session is BIRD's connection to listen_port.
		waitNeighbor(t, s, inbound, "the session BIRD opened to the listen port", NeighborStatus.Established)
		if st := birdState(b.run("show", "protocols"), "inbound"); st != "Established" {
			t.Errorf("BIRD's inbound session is %q", st)
		}
	})
	t.Run("multihop", func(t *testing.T) {
		// One routed hop away: with eBGP's TTL of 1 the forwarder would
		// drop the session's packets; multihop = 2 lets them through.
		waitNeighbor(t, s, far, "the multihop session through the forwarder", NeighborStatus.Established)
	})
	t.Run("received routes rejected", func(t *testing.T) {
		n := waitNeighbor(t, s, good4, "BIRD's route to reach the speaker", func(n NeighborStatus) bool { return n.Received == 1 })
		if n.Accepted != 0 || len(s.Status().Announced) != 0 {
			t.Errorf("the speaker took BIRD's %s: accepted %d, RIB %v", birdStatic, n.Accepted, s.Status().Announced)
		}
	})
	t.Run("announce", func(t *testing.T) {
		s.SetRoutes([]Route{{Prefix: netip.MustParsePrefix(vip4)}, {Prefix: netip.MustParsePrefix(vip6)}})
		poll.Until(t, 10*time.Second, "the VIPs in the router's kernel table via the director", func() bool {
			return strings.Contains(r.route("-4", vip4), "via "+dirV4) && strings.Contains(r.route("-6", vip6), "via "+dirV6)
		})
		all := b.run("show", "route", vip4, "all")
		for _, want := range []string{"BGP.next_hop: " + dirV4, "(65000,100)", "BGP.as_path: 65001"} {
			if !strings.Contains(all, want) {
				t.Errorf("BIRD's route lacks %q:\n%s", want, all)
			}
		}
		if out := b.run("show", "route", vip6, "all"); !strings.Contains(out, "BGP.next_hop: "+dirV6) {
			t.Errorf("BIRD's IPv6 route is not via the director's session address:\n%s", out)
		}
		st := s.Status()
		if len(st.Announced) != 2 {
			t.Errorf("Status().Announced = %+v, want both VIPs", st.Announced)
		}
		// Each session carries its own family's VIP.
		if n4, n6 := neighbor(st, good4), neighbor(st, good6); n4.Advertised != 1 || n6.Advertised != 1 || n4.UpdatesSent == 0 {
			t.Errorf("advertised %d (IPv4 session, %d updates sent) and %d (IPv6 session), want 1 each", n4.Advertised, n4.UpdatesSent, n6.Advertised)
		}
	})
	t.Run("bad neighbours reported", func(t *testing.T) {
		n := waitNeighbor(t, s, wrongAS, "the wrong-ASN neighbour to report its error", func(n NeighborStatus) bool {
			return strings.Contains(strings.ToLower(n.LastError), "peer as")
		})
		t.Logf("wrong ASN: state %s, last error %q", n.State, n.LastError)
		n = waitNeighbor(t, s, refused, "the refused neighbour to report its error", func(n NeighborStatus) bool {
			return strings.Contains(n.LastError, "connection refused")
		})
		t.Logf("refused: state %s, last error %q", n.State, n.LastError)
		n = waitNeighbor(t, s, md5, "the MD5 neighbour to report its error", func(n NeighborStatus) bool {
			return strings.Contains(n.LastError, "MD5") && !n.Established()
		})
		t.Logf("MD5 mismatch: state %s, last error %q", n.State, n.LastError)
		if strings.Contains(b.run("show", "protocols"), birdPeerMD5+" ") && birdState(b.run("show", "protocols"), birdPeerMD5) == "Established" {
			t.Error("BIRD established the MD5 session with a wrong password")
		}
		for _, a := range []netip.Addr{good4, good6} {
			if n := neighbor(s.Status(), a); !n.Established() {
				t.Errorf("good neighbour %v is %s beside the bad ones", a, n.State)
			}
		}
	})
	t.Run("graceful shutdown community", func(t *testing.T) {
		s.SetRoutes([]Route{{Prefix: netip.MustParsePrefix(vip4), GracefulShutdown: true}, {Prefix: netip.MustParsePrefix(vip6)}})
		poll.Until(t, 10*time.Second, "BIRD to see GRACEFUL_SHUTDOWN (65535,0) on the VIP", func() bool {
			return strings.Contains(b.run("show", "route", vip4, "all"), "(65535,0)")
		})
	})
	t.Run("withdraw", func(t *testing.T) {
		s.SetRoutes([]Route{{Prefix: netip.MustParsePrefix(vip6)}})
		poll.Until(t, 10*time.Second, "the IPv4 VIP to leave the router's kernel table", func() bool {
			return r.route("-4", vip4) == "" && strings.Contains(r.route("-6", vip6), "via "+dirV6)
		})
		s.SetRoutes(nil)
		poll.Until(t, 10*time.Second, "the IPv6 VIP to leave the router's kernel table", func() bool {
			return r.route("-6", vip6) == ""
		})
	})
	t.Run("right password establishes", func(t *testing.T) {
		// The control for the MD5 case: the same neighbour with BIRD's
		// password comes up, so the silence before was the mismatch.
		c := cloneConfig(cfg)
		c.Neighbors[3].Password = "right"
		if err := s.Reconfigure(c); err != nil {
			t.Fatal(err)
		}
		waitNeighbor(t, s, md5, "the MD5 session with the right password", NeighborStatus.Established)
		poll.Until(t, 10*time.Second, "BIRD to see the MD5 session established", func() bool {
			return birdState(b.run("show", "protocols"), birdPeerMD5) == "Established"
		})
		cfg = c
	})
	t.Run("reconfigure keeps unchanged sessions", func(t *testing.T) {
		before := neighbor(s.Status(), good4)
		c := cloneConfig(cfg)
		c.Neighbors = c.Neighbors[:2]
		if err := s.Reconfigure(c); err != nil {
			t.Fatal(err)
		}
		st := s.Status()
		if len(st.Neighbors) != 2 {
			t.Fatalf("after removing three neighbours Status lists %+v", st.Neighbors)
		}
		after := neighbor(st, good4)
		if !after.Established() || after.Uptime < before.Uptime {
			t.Errorf("unchanged neighbour went from %+v to %+v", before, after)
		}
	})
	t.Run("log says why", func(t *testing.T) {
		for _, want := range []map[string]string{
			{"msg": "bgp neighbour state changed", "neighbor": birdGoodV4, "new": "established", "reason": "session established"},
			{"msg": "bgp neighbour state changed", "neighbor": birdGoodV6, "old": "openconfirm", "new": "established"},
			{"msg": "bgp announce", "vip": vip4, "next_hop": "self", "reason": "wanted"},
			{"msg": "bgp announce", "vip": vip4, "graceful_shutdown": "true", "reason": "wanted; communities changed"},
			{"msg": "bgp withdraw", "vip": vip6, "reason": "no longer wanted"},
			{"msg": "bgp neighbour error", "neighbor": birdWrongAS, "err": "sent notification: code 2(open) subcode 2(bad peer as)"},
			{"msg": "bgp neighbour error", "neighbor": birdRefused, "err": "dial tcp *"},
			{"msg": "bgp neighbour removed", "neighbor": birdRefused, "reason": "removed from the configuration"},
		} {
			if _, ok := rec.find(want); !ok {
				t.Errorf("no log record %v", want)
			}
		}
	})
	t.Run("stop withdraws", func(t *testing.T) {
		s.SetRoutes([]Route{{Prefix: netip.MustParsePrefix(vip4)}})
		poll.Until(t, 10*time.Second, "the VIP back in the router's kernel table", func() bool {
			return strings.Contains(r.route("-4", vip4), "via "+dirV4)
		})
		stop()
		// Well within the 9 s hold time: closing the session withdraws.
		poll.Until(t, 3*time.Second, "the VIP to leave the router's table after the speaker stopped", func() bool {
			return r.route("-4", vip4) == ""
		})
	})
}

func neighbor(st Status, a netip.Addr) NeighborStatus {
	for _, n := range st.Neighbors {
		if n.Address == a {
			return n
		}
	}
	return NeighborStatus{}
}

func waitNeighbor(t *testing.T, s *Speaker, a netip.Addr, what string, cond func(NeighborStatus) bool) NeighborStatus {
	t.Helper()
	var n NeighborStatus
	if !poll.For(30*time.Second, func() bool { n = neighbor(s.Status(), a); return cond(n) }) {
		t.Fatalf("timed out waiting for %s; neighbour %v is %+v", what, a, n)
	}
	return n
}

type birdc struct {
	t    *testing.T
	sock string
}

func (b birdc) run(args ...string) string {
	out, err := exec.Command("birdc", append([]string{"-s", b.sock}, args...)...).CombinedOutput()
	if err != nil {
		b.t.Fatalf("birdc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// birdState is the BGP state column of a protocol in `show protocols`.
func birdState(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[0] == name && f[1] == "BGP" {
			return f[5]
		}
	}
	return ""
}

type router struct {
	t  *testing.T
	ns string
}

// route is `ip -n NS FAMILY route show DST`, "" when there is none.
func (r router) route(family, dst string) string {
	out, err := exec.Command("ip", "-n", r.ns, family, "route", "show", dst).CombinedOutput()
	if err != nil {
		r.t.Fatalf("ip route show %s in %s: %v\n%s", dst, r.ns, err, out)
	}
	return strings.TrimSpace(string(out))
}
