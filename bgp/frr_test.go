package bgp

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/need"
	"github.com/havsd/havsd/test/poll"
)

// frrBgpd is where Debian's frr package puts the BGP daemon.
const frrBgpd = "/usr/lib/frr/bgpd"

// frrConf is FRR's configuration for the router namespace: the good IPv4
// and IPv6 sessions and one whose neighbour the speaker believes to be in
// another AS. No zebra runs, so nothing reaches the router's kernel: the
// assertions read FRR's BGP table.
func frrConf() string {
	return fmt.Sprintf(`frr defaults datacenter
hostname r
log stdout
router bgp %[1]d
 bgp router-id %[2]s
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor %[3]s remote-as %[4]d
 neighbor %[5]s remote-as %[4]d
 neighbor %[6]s remote-as %[4]d
 address-family ipv4 unicast
  neighbor %[3]s activate
  neighbor %[6]s activate
 exit-address-family
 address-family ipv6 unicast
  neighbor %[5]s activate
 exit-address-family
`, birdASN, birdGoodV4, dirV4, speakerASN, dirV6, dirWrongAS)
}

type frrEnv struct {
	VtyDir string // bgpd's vty socket directory, for vtysh --vty_socket
}

// TestSpeakerAgainstFRR peers the speaker with FRR's bgpd, the other
// routing daemon operators run: sessions, routes with their next hop and
// communities in FRR's table, GRACEFUL_SHUTDOWN, withdraw, a wrong ASN.
func TestSpeakerAgainstFRR(t *testing.T) {
	var env frrEnv
	if inChild(t, &env) {
		speakerAgainstFRR(t, env)
		return
	}
	need.Root(t, "creates network namespaces and runs FRR's bgpd in one")
	need.Binaries(t, "ip", "vtysh", frrBgpd)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topo, dir := labTopology(t, ctx)
	conf := filepath.Join(dir, "bgpd.conf")
	if err := os.WriteFile(conf, []byte(frrConf()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var frrLog bytes.Buffer // read only after bgpd has exited
	bgpd, err := topo.Start("r", "bgpd", []string{frrBgpd, "-f", conf, "-i", filepath.Join(dir, "bgpd.pid"),
		"-z", filepath.Join(dir, "zserv.api"), "--vty_socket", dir, "-Z", "-n", "-S", "-P", "0"}, netlab.ProcOptions{Out: &frrLog})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		bgpd.Stop(5 * time.Second)
		if t.Failed() {
			t.Logf("bgpd's log:\n%s", frrLog.String())
		}
	}()
	if !poll.For(10*time.Second, func() bool { return vtyshCmd(dir, "show bgp summary").Run() == nil }) {
		t.Fatal("bgpd never answered vtysh")
	}
	runSpeakerSide(t, ctx, topo, frrEnv{VtyDir: dir})
}

func vtyshCmd(dir, cmd string) *exec.Cmd {
	return exec.Command("vtysh", "--vty_socket", dir, "-d", "bgpd", "-c", cmd)
}

func speakerAgainstFRR(t *testing.T, env frrEnv) {
	good4, good6, wrongAS := netip.MustParseAddr(birdGoodV4), netip.MustParseAddr(birdGoodV6), netip.MustParseAddr(birdWrongAS)
	s, err := New(Config{ASN: speakerASN, RouterID: netip.MustParseAddr(dirV4), Communities: []string{"65000:100"},
		Neighbors: []Neighbor{
			{Address: good4, ASN: birdASN, HoldTime: 9 * time.Second, Source: netip.MustParseAddr(dirV4)},
			{Address: good6, ASN: birdASN, HoldTime: 9 * time.Second},
			{Address: wrongAS, ASN: 65099, Source: netip.MustParseAddr(dirWrongAS)},
		}}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	vty := func(cmd string) string {
		out, err := vtyshCmd(env.VtyDir, cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("vtysh %q: %v\n%s", cmd, err, out)
		}
		return string(out)
	}

	t.Run("established", func(t *testing.T) {
		waitNeighbor(t, s, good4, "IPv4 session established", NeighborStatus.Established)
		waitNeighbor(t, s, good6, "IPv6 session established", NeighborStatus.Established)
		for _, a := range []string{dirV4, dirV6} {
			if out := vty("show bgp neighbors " + a + " json"); !strings.Contains(out, `"bgpState":"Established"`) {
				t.Errorf("FRR's session with %s is not established:\n%s", a, out)
			}
		}
	})
	t.Run("announce with graceful shutdown", func(t *testing.T) {
		s.SetRoutes([]Route{{Prefix: netip.MustParsePrefix(vip4), GracefulShutdown: true}, {Prefix: netip.MustParsePrefix(vip6)}})
		poll.Until(t, 10*time.Second, "both VIPs in FRR's table", func() bool {
			return strings.Contains(vty("show bgp ipv4 unicast "+vip4+" json"), `"ip":"`+dirV4+`"`) &&
				strings.Contains(vty("show bgp ipv6 unicast "+vip6+" json"), `"ip":"`+dirV6+`"`)
		})
		out := vty("show bgp ipv4 unicast " + vip4)
		for _, want := range []string{"65001", "65000:100", "graceful-shutdown"} {
			if !strings.Contains(out, want) {
				t.Errorf("FRR's route lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("wrong ASN reported", func(t *testing.T) {
		n := waitNeighbor(t, s, wrongAS, "the wrong-ASN neighbour to report its error", func(n NeighborStatus) bool {
			return strings.Contains(n.LastError, "bad peer as")
		})
		t.Logf("wrong ASN: state %s, last error %q", n.State, n.LastError)
	})
	t.Run("withdraw", func(t *testing.T) {
		s.SetRoutes(nil)
		poll.Until(t, 10*time.Second, "both VIPs to leave FRR's table", func() bool {
			return !strings.Contains(vty("show bgp ipv4 unicast json"), vip4) && !strings.Contains(vty("show bgp ipv6 unicast json"), vip6)
		})
	})
}
