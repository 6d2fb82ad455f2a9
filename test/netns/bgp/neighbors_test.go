package bgp

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/poll"
)

// Bad neighbours of one director: a second router that is AS 65000 while
// the director expects AS 65099 (wrong ASN), and a real server where
// nothing listens on port 179 (connection refused).
var (
	rtr2IP  = netip.MustParseAddr("10.97.0.2")
	refused = netlab.ECMPRealIP(0)
)

// TestBGPBadNeighbors: neighbours with a wrong ASN or refusing the
// connection are reported by havsd status and in the log, while the good
// session stays up, the VIP stays announced and the director keeps
// serving.
func TestBGPBadNeighbors(t *testing.T) {
	const hold = 3 * time.Second
	l := newLab(t, labOptions{
		directors: 1, hold: hold,
		extra: []netlab.ECMPNeighbor{{Address: rtr2IP.String(), ASN: 65099}, {Address: refused.String(), ASN: netlab.ECMPRouterASN}},
		nodes: []netlab.Node{{Name: "rtr2", Links: []netlab.Link{{Net: "core", Dev: "eth0", Addrs: []string{rtr2IP.String() + "/24"}}}}},
	})
	ctx := context.Background()
	rb := netlab.ECMPBird(1, hold)
	rb.RouterID, rb.Comment = rtr2IP, "second router: AS 65000, where the director expects 65099"
	bird2, err := l.topo.StartBird(ctx, "rtr2", l.dir, rb, l.logFile("bird-rtr2"))
	if err != nil {
		t.Fatal(err)
	}
	l.waitHops(30*time.Second, directorIPs(0), "d1 announced to the good router")
	if via, err := l.getOnce(netlab.ECMPClientIP); err != nil || via != "d1" {
		t.Fatalf("request through the VIP: %q, %v", via, err)
	}
	// Both bad neighbours end up reported with an error.
	start := time.Now()
	var st neighborsJSON
	ok := poll.For(20*time.Second, func() bool {
		st = l.statusJSON(t)
		b, r := st.find(rtr2IP), st.find(refused)
		return b != nil && r != nil && b.LastError != "" && r.LastError != "" && !b.established() && !r.established()
	})
	if !ok {
		t.Fatalf("havsd status --json does not report both bad neighbours with an error: %+v", st)
	}
	t.Logf("both bad neighbours reported after %s", time.Since(start).Round(time.Millisecond))
	t.Logf("wrong ASN: %+v", *st.find(rtr2IP))
	t.Logf("refused: %+v", *st.find(refused))
	if g := st.find(netlab.ECMPRouterIP); g == nil || !g.established() {
		t.Errorf("the good neighbour is not established: %+v", g)
	}
	text, err := l.ctl(0, "status")
	if err != nil {
		t.Fatalf("havsd status: %v\n%s", err, text)
	}
	for _, a := range []netip.Addr{rtr2IP, refused, netlab.ECMPRouterIP} {
		if !strings.Contains(text, a.String()) {
			t.Errorf("havsd status does not name neighbour %s:\n%s", a, text)
		}
	}
	log := l.log("d1")
	for _, a := range []netip.Addr{rtr2IP, refused} {
		if !strings.Contains(log, a.String()) {
			t.Errorf("the log never names the bad neighbour %s", a)
		}
	}
	if ps, err := bird2.Protocols(ctx); err != nil || ps["d1"] == "Established" {
		t.Errorf("the second router's session with the wrong ASN: %v, %v", ps, err)
	}
	// Over two hold times the director keeps its good session, its route
	// and its service.
	held := poll.Holds(2*hold, func() bool {
		return netlab.Has(l.fib.NextHops(), netlab.ECMPDirectorIP(0))
	})
	if !held {
		t.Errorf("d1 left the good router's FIB while its bad neighbours failed: %v", l.fib.NextHops())
	}
	if via, err := l.getOnce(netlab.ECMPSource(3)); err != nil || via != "d1" {
		t.Errorf("request through the VIP after the bad sessions failed: %q, %v", via, err)
	}
}

// neighborsJSON is the part of havsd status --json this test reads.
type neighborsJSON struct {
	BGP *struct {
		Neighbors []neighborJSON `json:"neighbors"`
	} `json:"bgp"`
}

type neighborJSON struct {
	Address   string `json:"address"`
	State     string `json:"state"`
	LastError string `json:"last_error"`
}

func (n *neighborJSON) established() bool { return strings.EqualFold(n.State, "established") }

func (s neighborsJSON) find(a netip.Addr) *neighborJSON {
	if s.BGP == nil {
		return nil
	}
	for i := range s.BGP.Neighbors {
		if s.BGP.Neighbors[i].Address == a.String() {
			return &s.BGP.Neighbors[i]
		}
	}
	return nil
}

func (l *lab) statusJSON(t *testing.T) neighborsJSON {
	t.Helper()
	out, _ := l.ctl(0, "status", "--json") // exit codes report states, the document is what counts
	var s neighborsJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("havsd status --json: %v\n%s", err, out)
	}
	return s
}
