package netns

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/havsd/havsd/test/netns/vrnet"
	"github.com/havsd/havsd/vrrp"
)

// TestVRHelperProcess is the director child process of the vrrp tests
// (vrnet.StartDirector re-executes the test binary into it).
func TestVRHelperProcess(t *testing.T) {
	if os.Getenv(vrnet.HelperEnv) == "" {
		t.Skip("helper process of the vrrp netns tests, not a test")
	}
	vrnet.HelperMain()
}

const (
	vrHelper = "TestVRHelperProcess"
	vrVIP    = "10.9.0.100"
	vrVIP6   = "fd00:9::100"
	vrPort   = ":7000"
)

// vrLab is the usual topology: two directors, a client and a stranger.
type vrLab struct {
	*vrnet.Lab
	d1, d2, client, evil *vrnet.Node
}

func newVRLab(t *testing.T, bins ...string) *vrLab {
	t.Helper()
	vrnet.Require(t, bins...)
	l := vrnet.NewLab(t)
	return &vrLab{Lab: l,
		d1:     l.AddNode("d1", "10.9.0.1/24"),
		d2:     l.AddNode("d2", "10.9.0.2/24"),
		client: l.AddNode("cl", "10.9.0.10/24"),
		evil:   l.AddNode("ev", "10.9.0.66/24"),
	}
}

func vrConfig(name string, prio uint8, version int, interval time.Duration) vrrp.Config {
	return vrrp.Config{
		Name: name, Interface: "eth0", VRID: 51, Priority: prio, Version: version,
		AdvertInterval: interval, Preempt: true,
		VIPs: []vrrp.VIP{{Prefix: netip.MustParsePrefix(vrVIP + "/24")}},
		GARP: vrrp.GARP{Count: 3, Interval: 20 * time.Millisecond, RepeatDelay: time.Second, RepeatCount: 2},
	}
}

func vrUnicast(cfg vrrp.Config, src string, peers ...string) vrrp.Config {
	cfg.UnicastSource = netip.MustParseAddr(src)
	for _, p := range peers {
		cfg.UnicastPeers = append(cfg.UnicastPeers, netip.MustParseAddr(p))
	}
	return cfg
}

// startPair starts d1 and d2 and waits until d1 is master and d2 backup;
// mdi is the backup's Master_Down_Interval.
func (l *vrLab) startPair(t *testing.T, c1, c2 vrrp.Config, mdi time.Duration) (d1, d2 *vrnet.Director) {
	t.Helper()
	d1, d2 = l.start(t, l.d1, c1), l.start(t, l.d2, c2)
	vrSettled(d1, d2, mdi)
	return d1, d2
}

// vrSettled waits until d1 is master and d2 backup.
func vrSettled(d1, d2 *vrnet.Director, mdi time.Duration) {
	d1.WaitState(vrrp.StateMaster, 2*mdi+2*time.Second)
	d2.WaitState(vrrp.StateBackup, 2*time.Second)
}

func (l *vrLab) start(t *testing.T, n *vrnet.Node, cfg vrrp.Config) *vrnet.Director {
	t.Helper()
	return vrnet.StartDirector(t, n, vrHelper, vrnet.HelperSpec{Node: n.Name, Listen: vrPort, Config: cfg})
}

// vrProber dials the VIP from the client every 5 ms and records who answered.
type vrProber struct {
	start time.Time
	mu    sync.Mutex
	res   []vrProbe
	stop  chan struct{}
	done  chan struct{}
}

type vrProbe struct {
	at  time.Time
	who string // empty: failed
}

func startProber(n *vrnet.Node, addr string) *vrProber {
	return startProberTimeout(n, addr, 50*time.Millisecond)
}

// startProberTimeout is startProber with a given dial timeout.
func startProberTimeout(n *vrnet.Node, addr string, timeout time.Duration) *vrProber {
	p := &vrProber{start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				// Stop only after a success, so the gap is closed.
				p.mu.Lock()
				ok := len(p.res) > 0 && p.res[len(p.res)-1].who != ""
				p.mu.Unlock()
				if ok || time.Since(p.start) > time.Minute {
					return
				}
			default:
			}
			who, err := n.Dial(addr, timeout)
			if err != nil {
				who = ""
			}
			p.mu.Lock()
			p.res = append(p.res, vrProbe{at: time.Now(), who: who})
			p.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return p
}

// finish stops probing and returns the longest run without an answer
// (from the last success before to the first success after) and the
// number of failed probes.
func (p *vrProber) finish() (gap time.Duration, failed int, answered []string) {
	close(p.stop)
	<-p.done
	last := p.start
	for _, r := range p.res {
		if r.who == "" {
			failed++
			continue
		}
		if r.at.Sub(last) > gap {
			gap = r.at.Sub(last)
		}
		last = r.at
		if !slices.Contains(answered, r.who) {
			answered = append(answered, r.who)
		}
	}
	return gap, failed, answered
}

// waitReach waits until the client reaches the VIP and the answer is want.
func waitReach(t *testing.T, client *vrnet.Node, want string, timeout time.Duration) time.Duration {
	t.Helper()
	return vrnet.WaitFor(t, "client reaching "+want+" on the VIP", timeout, func() bool {
		who, err := client.Dial(vrVIP+vrPort, 100*time.Millisecond)
		return err == nil && who == want
	})
}

func dropsString(m map[string]uint64) string {
	var ks []string
	for k, v := range m {
		ks = append(ks, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}
