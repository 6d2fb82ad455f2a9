package vrnet

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/internal/procstat"
	"github.com/havsd/havsd/netlab"
	"github.com/havsd/havsd/vrrp"
)

// KeepalivedSpec describes one keepalived VRRP instance.
type KeepalivedSpec struct {
	Version     int
	Priority    uint8
	Interval    time.Duration
	VIP         string // CIDR
	VRID        uint8
	AuthPass    string // v2 PASS
	UnicastSrc  string
	UnicastPeer []string
}

// Conf renders the keepalived.conf text.
func (s KeepalivedSpec) Conf(routerID string) string {
	return netlab.KeepalivedConf{RouterID: routerID, Version: s.Version, Instances: []netlab.KeepalivedInstance{{
		Name: "VI_1", Interface: "eth0", VRID: int(s.VRID), Priority: int(s.Priority), Advert: s.Interval,
		AuthPass: s.AuthPass, VIPs: []string{s.VIP}, UnicastSrc: s.UnicastSrc, UnicastPeers: s.UnicastPeer,
	}}}.String()
}

// Keepalived is a keepalived --vrrp process in a node.
type Keepalived struct {
	t       *testing.T
	Name    string
	dir     string
	cancel  context.CancelFunc
	mu      sync.Mutex
	state   vrrp.State
	lines   []string
	done    chan struct{}
	parent  int
	waitErr error
}

// StartKeepalived runs keepalived (VRRP only, foreground, console log, no
// respawn) with unique pid files under a temporary directory.
func StartKeepalived(t *testing.T, node *Node, name string, spec KeepalivedSpec) *Keepalived {
	t.Helper()
	return StartKeepalivedConf(t, node, name, spec.Conf(name))
}

// StartKeepalivedConf is StartKeepalived for a keepalived.conf given as
// text; args are added to keepalived's command line (e.g. "-i", "lb2").
func StartKeepalivedConf(t *testing.T, node *Node, name, text string, args ...string) *Keepalived {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	k := &Keepalived{t: t, Name: name, dir: dir, cancel: cancel, state: vrrp.StateInit, done: make(chan struct{})}
	cmd := node.Exec(ctx, "keepalived", append([]string{"--vrrp", "-n", "-l", "-D", "-R", "-f", conf,
		"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid")}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	k.parent = cmd.Process.Pid
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			k.line(sc.Text())
		}
	}()
	go func() {
		k.waitErr = cmd.Wait()
		close(k.done)
	}()
	t.Cleanup(func() {
		k.Kill()
		if t.Failed() {
			t.Logf("log of %s:\n%s", name, tail(k.Log(), 40))
		}
	})
	return k
}

func (k *Keepalived) line(s string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lines = append(k.lines, s)
	switch {
	case strings.Contains(s, "Entering MASTER STATE"):
		k.state = vrrp.StateMaster
	case strings.Contains(s, "Entering BACKUP STATE"):
		k.state = vrrp.StateBackup
	case strings.Contains(s, "Entering FAULT STATE"):
		k.state = vrrp.StateFault
	}
}

// State is the last state keepalived logged.
func (k *Keepalived) State() vrrp.State {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.state
}

// WaitState waits until keepalived logs state s.
func (k *Keepalived) WaitState(s vrrp.State, timeout time.Duration) time.Duration {
	k.t.Helper()
	return WaitFor(k.t, k.Name+" "+s.String(), timeout, func() bool { return k.State() == s })
}

// Log is everything keepalived printed.
func (k *Keepalived) Log() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return strings.Join(k.lines, "\n")
}

// Complaints returns keepalived's log lines about adverts it rejected.
func (k *Keepalived) Complaints() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var bad []string
	for _, l := range k.lines {
		ll := strings.ToLower(l)
		for _, w := range []string{"invalid", "checksum", "wrong", "unexpected", "mismatch", "bad "} {
			if strings.Contains(ll, w) {
				bad = append(bad, l)
				break
			}
		}
	}
	return bad
}

func (k *Keepalived) vrrpPid() int {
	b, err := os.ReadFile(filepath.Join(k.dir, "vrrp.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// Never signal a recycled pid: it must still be a keepalived.
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "keepalived" {
		return 0
	}
	return pid
}

// Crash SIGKILLs the VRRP child, then the parent.
func (k *Keepalived) Crash() {
	if pid := k.vrrpPid(); pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(k.parent, syscall.SIGKILL)
	<-k.done
}

// Stop sends SIGTERM (graceful: keepalived sends priority 0) and waits.
func (k *Keepalived) Stop() {
	_ = syscall.Kill(k.parent, syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		k.Crash()
	}
}

// Kill stops it if still running (cleanup).
func (k *Keepalived) Kill() {
	select {
	case <-k.done:
		return
	default:
	}
	k.Stop()
	if pid := k.vrrpPid(); pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// Usage is the CPU time and the resident memory of keepalived's parent and
// VRRP child together, read from /proc (the parent only, until the child
// has written its pid file).
func (k *Keepalived) Usage() (cpu time.Duration, rss uint64) {
	for _, pid := range []int{k.parent, k.vrrpPid()} {
		if pid <= 0 {
			continue
		}
		if st, err := procstat.Read(pid); err == nil {
			cpu += st.CPU()
			rss += st.RSS()
		}
	}
	return cpu, rss
}

// VRRPPid is the pid of keepalived's VRRP child; 0 until it has started.
func (k *Keepalived) VRRPPid() int { return k.vrrpPid() }
