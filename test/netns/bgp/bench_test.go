package bgp

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/test/poll"
)

// The BGP failover benchmark: `havsd lab --mode ecmp` (three directors
// announcing the VIP to BIRD, hold time 3 s) times how long a director's
// next hop takes to leave the router's FIB after its quorum loss, SIGTERM,
// SIGKILL and crash, and the same run drills the VRRP pair lab (`havsd lab`,
// VRRPv3 at 100 ms, client probing TCP connect every 5 ms) for SIGTERM and
// crash, printing medians and the ratios BGP/VRRP.
//
// In CI a smoke runs (one repetition of quorum and SIGTERM, one VRRP
// SIGTERM). The full table:
//
//	HAVSD_BGP_BENCH=full HAVSD_BGP_BENCH_N=5 go test -count=1 -v -run TestBGPFailoverBenchmark -timeout 30m ./test/netns/bgp/

// ecmpResults is what `havsd lab --mode ecmp -json` writes.
type ecmpResults struct {
	Share map[string]int `json:"share"`
	Reps  []struct {
		Event        string  `json:"event"`
		Director     string  `json:"director"`
		WithdrawMS   float64 `json:"withdraw_ms"`
		ReturnMS     float64 `json:"return_ms"`
		FlowsVictim  int     `json:"flows_victim"`
		BrokenVictim int     `json:"broken_victim"`
		FlowsOthers  int     `json:"flows_others"`
		BrokenOthers int     `json:"broken_others"`
		NewToVictim  int     `json:"new_to_victim"`
		GapMS        float64 `json:"gap_ms"`
		Lost         int     `json:"lost"`
	} `json:"repetitions"`
}

// values returns one field (withdraw, gap or lost) of an event's
// repetitions.
func (r ecmpResults) values(event, field string) []float64 {
	var out []float64
	for _, x := range r.Reps {
		if x.Event != event {
			continue
		}
		switch field {
		case "withdraw":
			out = append(out, x.WithdrawMS)
		case "gap":
			out = append(out, x.GapMS)
		case "lost":
			out = append(out, float64(x.Lost))
		}
	}
	return out
}

// vrrpResults is what `havsd lab -json` writes.
type vrrpResults struct {
	Events []struct {
		Event   string `json:"event"`
		Results []struct {
			GapMS     float64 `json:"gap_ms"`
			Lost      int     `json:"lost"`
			Recovered bool    `json:"recovered"`
		} `json:"results"`
	} `json:"events"`
}

// values returns one field (gap or lost) of an event's repetitions.
func (r vrrpResults) values(event, field string) []float64 {
	var out []float64
	for _, e := range r.Events {
		if e.Event != event {
			continue
		}
		for _, x := range e.Results {
			if field == "gap" {
				out = append(out, x.GapMS)
			} else {
				out = append(out, float64(x.Lost))
			}
		}
	}
	return out
}

func TestBGPFailoverBenchmark(t *testing.T) {
	requireLab(t)
	bin := havsd(t)
	n, ecmpEv, vrrpEv, streams := 1, "quorum,stop", "stop", "0"
	if os.Getenv("HAVSD_BGP_BENCH") == "full" {
		n, ecmpEv, vrrpEv, streams = 5, "quorum,stop,kill,crash", "crash,stop", "20"
		if v, err := strconv.Atoi(os.Getenv("HAVSD_BGP_BENCH_N")); err == nil && v > 0 {
			n = v
		}
	}
	var e ecmpResults
	runLab(t, bin, &e, "-mode", "ecmp", "-events", ecmpEv, "-n", strconv.Itoa(n), "-streams", streams)
	var v vrrpResults
	runLab(t, bin, &v, "-events", vrrpEv, "-n", strconv.Itoa(n), "-target", "tcp://10.99.0.100:80")
	for _, x := range e.Reps {
		if x.NewToVictim != 0 {
			t.Errorf("%s of %s: %d new connections reached it after it left the router's FIB", x.Event, x.Director, x.NewToVictim)
		}
	}
	for _, ev := range v.Events {
		for i, x := range ev.Results {
			if !x.Recovered {
				t.Errorf("VRRP %s #%d: the client never got through again", ev.Event, i+1)
			}
		}
	}
	table := benchTable(e, v)
	t.Logf("BGP/ECMP vs VRRP failover (%d repetitions per cell; the client opens a TCP connection to the VIP every 5 ms, from its 65 addresses in turn in the ECMP lab; VRRP: v3 100 ms adverts; BGP: three directors, hold time 3 s):\n%s", n, table)
	if p := os.Getenv("HAVSD_BGP_BENCH_OUT"); p != "" {
		if err := os.WriteFile(p, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func benchTable(e ecmpResults, v vrrpResults) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "drill\tmeasure\tBGP median [min–max]\tVRRP median [min–max]\tBGP/VRRP")
	for _, r := range []struct{ label, bgp, vrrp string }{
		{"quorum loss", "quorum", ""},
		{"SIGTERM", "stop", "stop"},
		{"SIGKILL of the daemon", "kill", ""},
		{"crash (link down + SIGKILL)", "crash", "crash"},
	} {
		if len(e.values(r.bgp, "withdraw")) == 0 {
			continue
		}
		for _, m := range []struct{ label, field string }{
			{"next hop out of the router's FIB (ms)", "withdraw"},
			{"client gap (ms)", "gap"},
			{"probes lost", "lost"},
		} {
			bg := e.values(r.bgp, m.field)
			var vg []float64
			if r.vrrp != "" && m.field != "withdraw" {
				vg = v.values(r.vrrp, m.field)
			}
			ratio := "n/a"
			if len(vg) > 0 && median(vg) > 0 {
				ratio = fmt.Sprintf("%.2f", median(bg)/median(vg))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.label, m.label, cell(bg), cell(vg), ratio)
		}
	}
	w.Flush()
	return b.String()
}

func cell(g []float64) string {
	if len(g) == 0 {
		return "n/a"
	}
	s := slices.Clone(g)
	slices.Sort(s)
	return fmt.Sprintf("%.1f [%.1f–%.1f]", median(s), s[0], s[len(s)-1])
}

func median(g []float64) float64 {
	s := slices.Clone(g)
	slices.Sort(s)
	switch n := len(s); {
	case n == 0:
		return 0
	case n%2 == 1:
		return s[n/2]
	default:
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func TestBenchTable(t *testing.T) {
	var e ecmpResults
	_ = json.Unmarshal([]byte(`{"repetitions":[{"event":"stop","withdraw_ms":10,"gap_ms":10},{"event":"stop","withdraw_ms":30,"gap_ms":30},{"event":"quorum","withdraw_ms":5}]}`), &e)
	var v vrrpResults
	_ = json.Unmarshal([]byte(`{"events":[{"event":"stop","results":[{"gap_ms":40,"lost":3,"recovered":true}]}]}`), &v)
	tab := benchTable(e, v)
	for _, want := range []string{"20.0 [10.0–30.0]", "40.0 [40.0–40.0]", "0.50", "5.0 [5.0–5.0]", "3.0 [3.0–3.0]"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	if strings.Contains(tab, "crash") {
		t.Errorf("a row without results:\n%s", tab)
	}
}

// runLab runs `havsd lab` with args and its own prefix, state and config
// directories, and decodes its JSON results into res.
func runLab(t *testing.T, bin string, res any, args ...string) {
	t.Helper()
	prefix, stateDir, out := netlab.RandomPrefix("hv-bb"), t.TempDir(), filepath.Join(t.TempDir(), "results.json")
	args = append([]string{"lab", "-prefix", prefix, "-state-dir", stateDir, "-dir", t.TempDir(), "-json", out}, args...)
	cmd := exec.Command(bin, args...)
	buf := &poll.Buffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = netlab.Down(netlab.StateFile(stateDir, prefix)) })
	select {
	case err := <-done:
		t.Logf("havsd %s:\n%s", strings.Join(args, " "), buf.String())
		if err != nil {
			t.Fatalf("havsd lab failed: %v", err)
		}
	case <-time.After(25 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("havsd lab still running after 25 minutes:\n%s", buf.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, res); err != nil {
		t.Fatal(err)
	}
}
