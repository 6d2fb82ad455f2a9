package daemon

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
)

// The tracker tests (issue 13): d1 (priority 150) tracks something, d2
// (priority 100) does not; when the tracker fails d1's priority drops below
// d2's (or d1 goes to FAULT) and the VIP moves to d2; when it recovers d1
// preempts and takes it back.

// trackJSON is the part of `havsd status --json` about trackers.
type trackJSON struct {
	Instances []struct {
		Name              string `json:"name"`
		State             string `json:"state"`
		EffectivePriority int    `json:"effective_priority"`
	} `json:"instances"`
	Trackers []struct {
		Kind   string `json:"kind"`
		Name   string `json:"name"`
		State  string `json:"state"`
		Value  int    `json:"value"`
		Last   string `json:"last"`
		UsedBy []struct {
			Instance string `json:"instance"`
			Delta    int    `json:"delta"`
			Fault    bool   `json:"fault"`
		} `json:"used_by"`
	} `json:"trackers"`
}

func (p *pair) trackStatus(node string) (trackJSON, error) {
	out, err := p.statusJSON(node)
	var st trackJSON
	if err != nil {
		return st, fmt.Errorf("%v: %s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return st, fmt.Errorf("decoding status: %v: %s", err, out)
	}
	if len(st.Instances) == 0 || len(st.Trackers) == 0 {
		return st, fmt.Errorf("no instance or no tracker in %s", out)
	}
	return st, nil
}

// trackD1 gives d1 the tracker blocks (top) and the instance's track blocks
// (use), and reloads it.
func (p *pair) trackD1(use, top string) {
	p.t.Helper()
	p.writeConfig("d1", p.configText("d1", 150, use, "")+top)
	if out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1")); err != nil {
		p.t.Fatalf("reload: %v\n%s", err, out)
	}
}

// waitTracker polls d1's status until cond holds.
func (p *pair) waitTracker(what string, cond func(trackJSON) bool) trackJSON {
	p.t.Helper()
	var last trackJSON
	eventually(p.t, 15*time.Second, what, func() bool {
		st, err := p.trackStatus("d1")
		if err == nil {
			last = st
		}
		return err == nil && cond(st)
	})
	return last
}

func TestTrackScriptMovesVIP(t *testing.T) {
	p := newPair(t, "100ms")
	verdict := filepath.Join(p.dir, "verdict")
	write := func(s string) {
		if err := os.WriteFile(verdict, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("0")
	p.trackD1(`  track_script "chk" {}`, fmt.Sprintf(`
vrrp_script "chk" {
  command  = ["/bin/sh", "-c", "exit $(cat %s)"]
  interval = "300ms"
  timeout  = "1s"
  rise     = 2
  fall     = 3
  weight   = -60
}
`, verdict))
	p.waitTracker("script passing", func(st trackJSON) bool { return st.Trackers[0].State == "ok" && st.Instances[0].State == "master" })

	// fall 3: after the first failure d1 must still be master.
	write("1")
	var pending atomic.Bool
	st := p.waitTracker("d1 lowered to 90 after 3 failures", func(st trackJSON) bool {
		tr := st.Trackers[0]
		if strings.HasPrefix(tr.Last, "exit 1") && tr.State == "ok" && st.Instances[0].State == "master" {
			pending.Store(true)
		}
		return tr.State == "failed" && st.Instances[0].EffectivePriority == 90
	})
	p.waitMaster("d2")
	if !pending.Load() {
		t.Errorf("never saw a failing run while the script still counted as passing (fall = 3): %+v", st.Trackers[0])
	}
	if u := st.Trackers[0].UsedBy; len(u) != 1 || u[0].Delta != -60 {
		t.Errorf("used_by = %+v, want VI_1 at -60", u)
	}

	// rise 2: one success is not enough.
	write("0")
	pending.Store(false)
	p.waitTracker("d1 back to 150 after 2 successes", func(st trackJSON) bool {
		tr := st.Trackers[0]
		if strings.HasPrefix(tr.Last, "exit 0") && tr.State == "failed" {
			pending.Store(true)
		}
		return tr.State == "ok" && st.Instances[0].EffectivePriority == 150
	})
	p.waitMaster("d1")
	if !pending.Load() {
		t.Error("never saw a passing run while the script still counted as failed (rise = 2)")
	}
}

func TestTrackFileMovesVIP(t *testing.T) {
	p := newPair(t, "100ms")
	maint := filepath.Join(p.dir, "maint")
	write := func(s string) {
		tmp := maint + ".new"
		if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, maint); err != nil {
			t.Fatal(err)
		}
	}
	// The file's own weight is 1; the instance overrides it with -1.
	p.trackD1("  track_file \"maint\" {\n    weight = -1\n  }", fmt.Sprintf(`
track_file "maint" {
  path   = %q
  weight = 1
}
`, maint))
	p.waitTracker("file absent reads 0", func(st trackJSON) bool { return st.Trackers[0].State == "ok" && st.Trackers[0].Value == 0 })
	write("60\n")
	p.waitTracker("d1 at 150 - 60", func(st trackJSON) bool {
		return st.Trackers[0].Value == 60 && st.Instances[0].EffectivePriority == 90
	})
	p.waitMaster("d2")
	write("0\n")
	p.waitTracker("d1 back at 150", func(st trackJSON) bool { return st.Instances[0].EffectivePriority == 150 })
	p.waitMaster("d1")
}

// startTracked runs a process named name (a copy of sleep) in a node.
func (p *pair) startTracked(node, name string) *netlab.Proc {
	p.t.Helper()
	bin := filepath.Join(p.dir, name)
	if _, err := os.Stat(bin); err != nil {
		src, err := exec.LookPath("sleep")
		if err != nil {
			p.t.Skip("no sleep binary")
		}
		b, err := os.ReadFile(src)
		if err != nil {
			p.t.Fatal(err)
		}
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			p.t.Fatal(err)
		}
	}
	proc, err := p.topo.Start(node, name, []string{bin, "3600"}, netlab.ProcOptions{})
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { proc.Stop(time.Second) })
	return proc
}

var trackSeq atomic.Int32

func TestTrackProcessMovesVIP(t *testing.T) {
	p := newPair(t, "100ms")
	name := fmt.Sprintf("pa-web%d-%d", os.Getpid()%10000, trackSeq.Add(1))
	proc := p.startTracked("d1", name)
	p.trackD1(`  track_process "web" {}`, fmt.Sprintf(`
track_process "web" {
  name   = %q
  weight = 0
}
`, name))
	p.waitTracker("process counted", func(st trackJSON) bool { return st.Trackers[0].State == "ok" && st.Trackers[0].Value == 1 })
	proc.Stop(time.Second)
	st := p.waitTracker("d1 in FAULT", func(st trackJSON) bool { return st.Instances[0].State == "fault" })
	if u := st.Trackers[0].UsedBy; len(u) != 1 || !u[0].Fault {
		t.Errorf("used_by = %+v, want VI_1 faulted", u)
	}
	p.waitMaster("d2")
	p.startTracked("d1", name)
	p.waitMaster("d1")
}

// TestTrackProcessInSyncGroup: a track_process in a vrrp_sync_group faults
// every member on d1 when the process dies; d2 takes both VIPs; both come
// back when it runs again.
func TestTrackProcessInSyncGroup(t *testing.T) {
	p := newPair(t, "100ms")
	name := fmt.Sprintf("pa-grp%d-%d", os.Getpid()%10000, trackSeq.Add(1))
	proc := p.startTracked("d1", name)
	second := func(prio int) string {
		return fmt.Sprintf(`
vrrp_instance "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  priority          = %d
  version           = 3
  advert_interval   = "100ms"
  virtual_ipaddress = ["10.99.0.101/24"]
}
`, prio)
	}
	group := "\nvrrp_sync_group \"G\" {\n  instances = [\"VI_1\", \"VI_2\"]\n%s}\n"
	// Sync groups are bound at start: restart both with their groups.
	p.writeConfig("d2", p.configText("d2", 100, "", "")+second(100)+fmt.Sprintf(group, ""))
	p.writeConfig("d1", p.configText("d1", 150, "", "")+second(150)+fmt.Sprintf(group, "  track_process \"web\" {}\n")+
		fmt.Sprintf("track_process \"web\" {\n  name   = %q\n  weight = 0\n}\n", name))
	for _, n := range netlab.Directors {
		p.procs[n].Stop(5 * time.Second)
		p.start(n)
	}
	states := func(node string) []string {
		st, err := p.trackStatus(node)
		if err != nil {
			return nil
		}
		var s []string
		for _, in := range st.Instances {
			s = append(s, in.State)
		}
		return s
	}
	both := func(node, state string) func() bool {
		return func() bool { s := states(node); return len(s) == 2 && s[0] == state && s[1] == state }
	}
	eventually(t, 15*time.Second, "d1 master of both", both("d1", "master"))
	proc.Stop(time.Second)
	eventually(t, 15*time.Second, "d1 in FAULT in both", both("d1", "fault"))
	eventually(t, 15*time.Second, "d2 master of both", func() bool {
		st, err := p.status("d2")
		return err == nil && len(st.Instances) == 2 && st.Instances[0].State == "master" && st.Instances[1].State == "master"
	})
	p.startTracked("d1", name)
	eventually(t, 15*time.Second, "d1 master of both again", both("d1", "master"))
}
