package bgp

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/havsd/havsd/netlab"
)

// The namespace tests run the speaker inside a director namespace: GoBGP's
// goroutines open sockets on whatever thread they run, so the whole
// process must be in the namespace. The parent (the test as go test runs
// it) builds the namespaces and starts the router's daemon, then runs the
// same test binary again inside the director namespace with childEnv set;
// there the test makes its assertions.

// labTopology builds the router namespace "r" and the director namespace
// "d" on one bridge, with the addresses of bird_test.go's constants, and a
// second path to the router through a forwarder "fw" (lan to far) for the
// multihop session.
func labTopology(t *testing.T, ctx context.Context) (*netlab.Topology, string) {
	t.Helper()
	dir := t.TempDir()
	topo, err := netlab.Build(ctx, netlab.Spec{
		Prefix:   netlab.RandomPrefix("hbgp"),
		StateDir: dir,
		Nets:     []string{"lan", "far"},
		Nodes: []netlab.Node{
			{Name: "r", Links: []netlab.Link{{Net: "lan", Dev: "eth0", Addrs: []string{
				birdGoodV4 + "/24", birdWrongAS + "/24", birdMD5 + "/24", birdRefused + "/24", birdInbound + "/24", birdGoodV6 + "/64"}},
				{Net: "far", Dev: "eth1", Addrs: []string{birdFar + "/24"}}},
				Sysctls: map[string]string{"net.ipv6.conf.eth0.accept_dad": "0"}},
			{Name: "d", Links: []netlab.Link{{Net: "lan", Dev: "eth0", Addrs: []string{
				dirV4 + "/24", dirWrongAS + "/24", dirMD5 + "/24", dirListen + "/24", dirFar + "/24", dirV6 + "/64"}}},
				Routes:  []netlab.Route{{Dst: farNet, Via: fwLan}},
				Sysctls: map[string]string{"net.ipv6.conf.eth0.accept_dad": "0"}},
			{Name: "fw", Links: []netlab.Link{{Net: "lan", Dev: "eth0", Addrs: []string{fwLan + "/24"}}, {Net: "far", Dev: "eth1", Addrs: []string{fwFar + "/24"}}},
				Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := topo.Close(); err != nil {
			t.Errorf("removing the namespaces: %v", err)
		}
	})
	return topo, dir
}

// runSpeakerSide runs the current test again inside the director
// namespace, handing it env, and fails if it fails.
func runSpeakerSide(t *testing.T, ctx context.Context, topo *netlab.Topology, env any) {
	t.Helper()
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	child, err := topo.Start("d", "speaker", []string{os.Args[0], "-test.run", "^" + t.Name() + "$", "-test.v", "-test.count", "1"},
		netlab.ProcOptions{Env: []string{childEnv + "=" + string(b)}, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	err = child.Wait(ctx)
	t.Logf("speaker side (in %s):\n%s", topo.NS("d"), out.String())
	if err != nil {
		t.Fatalf("the speaker side failed: %v", err)
	}
}

// inChild reports whether this is the re-executed child, and if so
// decodes what the parent handed it into env.
func inChild(t *testing.T, env any) bool {
	v := os.Getenv(childEnv)
	if v == "" {
		return false
	}
	if err := json.Unmarshal([]byte(v), env); err != nil {
		t.Fatal(err)
	}
	return true
}
