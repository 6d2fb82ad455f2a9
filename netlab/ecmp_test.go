package netlab

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/test/need"
)

func labBird() BirdConf {
	c := BirdConf{RouterID: ECMPRouterIP, ASN: ECMPRouterASN, HoldTime: 3 * time.Second, MergePaths: true}
	for i := 0; i < 3; i++ {
		c.Neighbors = append(c.Neighbors, BirdNeighbor{Name: ECMPDirectorName(i), Address: ECMPDirectorIP(i), ASN: ECMPDirectorASN})
	}
	c.Neighbors[2].Password = "s3cret"
	return c
}

func TestBirdConfString(t *testing.T) {
	s := labBird().String()
	for _, want := range []string{
		"router id 10.97.0.1;", "merge paths on;", "local 10.97.0.1 as 65000;", "hold time 3;", "keepalive time 1;",
		"graceful restart off;", "(65535, 0) ~ bgp_community", "protocol bgp d2 from director {\n  neighbor 10.97.0.12 as 65001;",
		"password \"s3cret\";",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("bird.conf lacks %q:\n%s", want, s)
		}
	}
	c := labBird()
	c.MergePaths, c.HoldTime = false, time.Second
	s = c.String()
	if strings.Contains(s, "merge paths") || !strings.Contains(s, "hold time 3;") {
		t.Errorf("without merge paths and with a 1s hold time (BIRD's minimum is 3):\n%s", s)
	}
}

// TestBirdConfParses has BIRD itself check the generated file (bird -p).
func TestBirdConfParses(t *testing.T) {
	need.Binaries(t, "bird")
	p := filepath.Join(t.TempDir(), "bird.conf")
	if err := os.WriteFile(p, []byte(labBird().String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bird", "-p", "-c", p).CombinedOutput(); err != nil {
		t.Fatalf("bird -p: %v\n%s", err, out)
	}
}

func TestParseBirdProtocols(t *testing.T) {
	out := `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     14:50:01.123  
kernel1    Kernel     master4    up     14:50:01.123  
d1         BGP        ---        up     14:50:02.456  Established   
d2         BGP        ---        start  14:50:01.123  Active        Socket: Connection refused
d3         BGP        ---        down   14:50:01.123  
`
	got := parseBirdProtocols(out)
	want := map[string]string{"d1": "Established", "d2": "Active", "d3": "Idle"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}

// TestECMPRouterHash: the router hashes at L4 with policy 1 by default and,
// with HeaderHash, on each packet's five-tuple (custom policy 3, fields
// source and destination address, protocol, source and destination port).
func TestECMPRouterHash(t *testing.T) {
	router := func(o ECMPOptions) map[string]string {
		for _, n := range ECMP("x-", o).Nodes {
			if n.Name == ECMPRouter {
				return n.Sysctls
			}
		}
		t.Fatal("no router in the ECMP layout")
		return nil
	}
	def := router(ECMPOptions{Directors: 3})
	if p, f := def["net.ipv4.fib_multipath_hash_policy"], def["net.ipv4.fib_multipath_hash_fields"]; p != "1" || f != "" {
		t.Errorf("default router: hash policy %q, fields %q; want 1 and unset", p, f)
	}
	hh := router(ECMPOptions{Directors: 3, HeaderHash: true})
	if p, f := hh["net.ipv4.fib_multipath_hash_policy"], hh["net.ipv4.fib_multipath_hash_fields"]; p != "3" || f != "0x0037" {
		t.Errorf("HeaderHash router: hash policy %q, fields %q; want 3 and 0x0037", p, f)
	}
}

// TestECMPTopology builds the ECMP layout with BIRD on the router and a
// static multipath route standing in for BGP: the client's flows reach
// every director, and the route watch sees the next hops change.
func TestECMPTopology(t *testing.T) {
	needRoot(t)
	need.Binaries(t, "bird", "birdc")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spec := ECMP(RandomPrefix("hv-ec"), ECMPOptions{Directors: 3, Reals: 1, Sources: 4, VIPOnDirectors: true})
	spec.StateDir = t.TempDir()
	topo, err := Build(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = topo.Close() })
	out, err := topo.Exec(ctx, ECMPRouter, "sysctl", "-n", "net.ipv4.fib_multipath_hash_policy")
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Errorf("router's multipath hash policy = %q, %v; want 1 (L4)", out, err)
	}
	b, err := topo.StartBird(ctx, ECMPRouter, t.TempDir(), labBird(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := b.Protocols(ctx)
	if err != nil || len(ps) != 3 || ps["d1"] == "Established" {
		t.Errorf("BIRD's protocols with no director speaking BGP: %v, %v", ps, err)
	}
	w, err := topo.WatchFIB(ECMPRouter, netip.PrefixFrom(ECMPVIP, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if nh := w.NextHops(); len(nh) != 0 {
		t.Fatalf("route to the VIP before anyone announced it: %v", nh)
	}
	// A static multipath route, as BIRD would install it.
	if err := topo.IP(ctx, ECMPRouter, "route", "add", ECMPVIP.String()+"/32",
		"nexthop", "via", ECMPDirectorIP(0).String(), "nexthop", "via", ECMPDirectorIP(1).String()); err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{ECMPDirectorIP(0), ECMPDirectorIP(1)}
	if _, ok := w.Wait(5*time.Second, func(nh []netip.Addr) bool { return len(nh) == 2 && nh[0] == want[0] && nh[1] == want[1] }); !ok {
		t.Fatalf("route watch: %v, want %v", w.NextHops(), want)
	}
	for i := 0; i < 4; i++ {
		if out, err := topo.Exec(ctx, ECMPClient, "ping", "-c1", "-W2", "-I", ECMPSource(i).String(), ECMPVIP.String()); err != nil {
			t.Errorf("client %s → VIP: %v\n%s", ECMPSource(i), err, out)
		}
	}
	if err := topo.IP(ctx, ECMPRouter, "route", "del", ECMPVIP.String()+"/32"); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Wait(5*time.Second, func(nh []netip.Addr) bool { return len(nh) == 0 }); !ok {
		t.Errorf("route watch after the delete: %v", w.NextHops())
	}
}

func TestQuorumLostIn(t *testing.T) {
	log := []byte(`{"time":"2026-12-02T15:00:00.100Z","level":"WARN","msg":"quorum changed","service":"tcp 10.97.100.10:80","old":"unknown","new":"up"}
not json
{"time":"2026-12-02T15:00:01.000Z","level":"WARN","msg":"quorum changed","service":"tcp 10.97.100.10:80","old":"up","new":"lost"}
{"time":"2026-12-02T15:00:05.000Z","level":"WARN","msg":"quorum changed","service":"tcp 10.97.100.10:80","old":"up","new":"lost"}
`)
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	if got, ok := QuorumLostIn(log, at("2026-12-02T15:00:00Z")); !ok || !got.Equal(at("2026-12-02T15:00:01Z")) {
		t.Errorf("first loss = %v, %v", got, ok)
	}
	if got, ok := QuorumLostIn(log, at("2026-12-02T15:00:02Z")); !ok || !got.Equal(at("2026-12-02T15:00:05Z")) {
		t.Errorf("loss after 15:00:02 = %v, %v", got, ok)
	}
	if _, ok := QuorumLostIn(log, at("2026-12-02T15:00:06Z")); ok {
		t.Error("a loss after the last one")
	}
}

func TestECMPHavsdString(t *testing.T) {
	s := ECMPHavsd{Director: 1, Socket: "/run/d2.sock", HoldTime: 3 * time.Second, CheckInterval: 300 * time.Millisecond, Reals: 2,
		Extra: []ECMPNeighbor{{Address: "10.97.0.21", ASN: 65000, Port: 1790}}}.String()
	for _, want := range []string{`router_id = "10.97.0.12"`, `neighbor "10.97.0.1" {` + "\n    asn       = 65000", `announce  = "bgp"`,
		`real_server "10.97.0.22:80"`, `port      = 1790`, `interval = "300ms"`, `log_format     = "json"`} {
		if !strings.Contains(s, want) {
			t.Errorf("config lacks %q:\n%s", want, s)
		}
	}
}

// TestECMPRouterMergesPaths has three BIRDs, one per director namespace,
// announce the VIP to the router's BIRD (from ECMPBird): the router's
// kernel gets one route with three next hops, L4 hashing spreads the
// client's flows over them, and a speaker killed leaves within the hold
// time.
func TestECMPRouterMergesPaths(t *testing.T) {
	needRoot(t)
	need.Binaries(t, "bird", "birdc")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spec := ECMP(RandomPrefix("hv-ec"), ECMPOptions{Directors: 3, Sources: 16, VIPOnDirectors: true})
	spec.StateDir = t.TempDir()
	topo, err := Build(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = topo.Close() })
	w, err := topo.WatchFIB(ECMPRouter, netip.PrefixFrom(ECMPVIP, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dir := t.TempDir()
	if _, err := topo.StartBird(ctx, ECMPRouter, dir, ECMPBird(3, 3*time.Second), nil); err != nil {
		t.Fatal(err)
	}
	var speakers []*Bird
	for i := 0; i < 3; i++ {
		d := ECMPDirectorName(i)
		conf := "log stderr all;\nrouter id " + ECMPDirectorIP(i).String() + ";\nprotocol device {}\n" +
			"protocol static vip { ipv4; route " + ECMPVIP.String() + "/32 blackhole; }\n" +
			"protocol bgp r {\n  local " + ECMPDirectorIP(i).String() + " as 65001;\n  neighbor " + ECMPRouterIP.String() + " as 65000;\n" +
			"  hold time 3;\n  ipv4 { import none; export where proto = \"vip\"; next hop self; };\n}\n"
		p := filepath.Join(dir, d+".conf")
		if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		b := &Bird{Socket: filepath.Join(dir, d+".ctl"), Conf: p}
		if b.Proc, err = topo.Start(d, "bird-"+d, []string{"bird", "-f", "-c", p, "-s", b.Socket}, ProcOptions{}); err != nil {
			t.Fatal(err)
		}
		speakers = append(speakers, b)
	}
	all := []netip.Addr{ECMPDirectorIP(0), ECMPDirectorIP(1), ECMPDirectorIP(2)}
	if _, ok := w.Wait(30*time.Second, func(nh []netip.Addr) bool { return slices.Equal(nh, all) }); !ok {
		t.Fatalf("router's next hops %v, want %v", w.NextHops(), all)
	}
	// Which director each flow goes to, by the router's own lookup of
	// the five-tuple.
	seen := map[string]bool{}
	for s := 0; s < 16; s++ {
		for port := 40000; port < 40004; port++ {
			out, err := topo.Exec(ctx, ECMPRouter, "ip", "route", "get", ECMPVIP.String(), "from", ECMPSource(s).String(), "iif", "eth1",
				"ipproto", "tcp", "sport", strconv.Itoa(port), "dport", "80")
			if err != nil {
				t.Fatal(err)
			}
			f := strings.Fields(string(out))
			if i := slices.Index(f, "via"); i >= 0 {
				seen[f[i+1]] = true
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("64 flows hashed to %v, want all three directors", seen)
	}
	t0 := time.Now()
	if err := speakers[1].Proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	at, ok := w.Wait(10*time.Second, func(nh []netip.Addr) bool { return len(nh) == 2 && !Has(nh, ECMPDirectorIP(1)) })
	if !ok {
		t.Fatalf("after killing d2's speaker: next hops %v", w.NextHops())
	}
	if d := at.Sub(t0); d > 3250*time.Millisecond {
		t.Errorf("d2 left %s after its speaker died, want within the 3s hold time", d)
	} else {
		t.Logf("d2 left the router's FIB %s after its speaker died (hold time 3s)", d.Round(time.Millisecond))
	}
}
