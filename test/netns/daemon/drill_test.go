package daemon

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
)

// TestDrillFaultEvents runs `havsd drill -event pause|delvip|link` against a
// real pair, given both control sockets, probing the VIP from the client:
// each event is injected on whichever director is master, the drill reports
// a recovered repetition, and afterwards exactly one director is master.
func TestDrillFaultEvents(t *testing.T) {
	p := newPair(t, "100ms")
	target := "tcp://" + netlab.VIP.String() + ":80"
	for _, event := range []string{"pause", "delvip", "link"} {
		t.Run(event, func(t *testing.T) {
			args := []string{"drill", "-target", target, "-event", event, "-n", "1",
				"-s", p.socket("d1"), "-s", p.socket("d2"), "-netns", p.topo.NS(netlab.Client),
				"-hold", "1s", "-pause", "500ms", "-lead", "200ms", "-settle", "1s"}
			out, err := exec.Command(havsd, args...).CombinedOutput()
			t.Logf("havsd %s\n%s", strings.Join(args, " "), out)
			if err != nil {
				t.Fatalf("drill -event %s: %v", event, err)
			}
			for _, want := range []string{event + ": 1 repetitions", "client gap"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("drill output lacks %q", want)
				}
			}
			if strings.Contains(string(out), "NOT RECOVERED") {
				t.Errorf("drill -event %s: the pair did not recover", event)
			}
			eventually(t, 10*time.Second, "exactly one master after "+event, func() bool {
				s1, s2 := p.state("d1"), p.state("d2")
				return (s1 == "master") != (s2 == "master") && s1 != "fault" && s2 != "fault"
			})
		})
	}
}
