package daemon

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/havsd/havsd/netlab"
)

// notifySocket is a NOTIFY_SOCKET as systemd opens it, collecting datagrams.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	ns := &notifySocket{path: filepath.Join(t.TempDir(), "notify")}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: ns.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			ns.mu.Lock()
			ns.msgs = append(ns.msgs, string(buf[:n]))
			ns.mu.Unlock()
		}
	}()
	return ns
}

// since returns the datagrams received after the first n.
func (ns *notifySocket) since(n int) []string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return append([]string(nil), ns.msgs[min(n, len(ns.msgs)):]...)
}

func (ns *notifySocket) len() int {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return len(ns.msgs)
}

// waitMsg waits until a datagram after the first n contains every part.
func (ns *notifySocket) waitMsg(t *testing.T, n int, parts ...string) string {
	t.Helper()
	var got string
	eventually(t, 10*time.Second, "a notification with "+strings.Join(parts, ", "), func() bool {
		for _, m := range ns.since(n) {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(m, p)
			}
			if ok {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

func monotonicUsec(t *testing.T) int64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return ts.Nano() / 1e3
}

// TestSystemdNotify runs d1 as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC)
// and reloads it the way ExecReload does: READY=1 once running, WATCHDOG=1
// while alive, STATUS= with the instance's state, RELOADING=1 with a
// CLOCK_MONOTONIC stamp then READY=1 around each reload; havsd reload exits
// 0 for a valid or unchanged file and 3, with the diagnostics, for an
// invalid one.
func TestSystemdNotify(t *testing.T) {
	p := newPair(t, "100ms")
	p.procs[netlab.D1].Stop(5 * time.Second)
	ns := listenNotify(t)
	log, err := os.OpenFile(filepath.Join(p.dir, "d1.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	proc, err := p.topo.Start(netlab.D1, "havsd-notify", []string{havsd, "run", "-f", p.config(netlab.D1)},
		netlab.ProcOptions{Out: log, Env: []string{"NOTIFY_SOCKET=" + ns.path, "WATCHDOG_USEC=400000"}})
	if err != nil {
		t.Fatal(err)
	}
	p.procs[netlab.D1] = proc
	ns.waitMsg(t, 0, "READY=1")
	p.waitMaster(netlab.D1)
	ns.waitMsg(t, 0, "STATUS=VI_1 MASTER; services 1/1 up")
	n := ns.len()
	ns.waitMsg(t, n, "WATCHDOG=1")
	ns.waitMsg(t, n+1, "WATCHDOG=1")

	reload := func() (string, int) {
		cmd := exec.Command("ip", "netns", "exec", p.topo.NS(netlab.D1), havsd, "reload", "-f", p.config(netlab.D1))
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return string(out), 0
		case errors.As(err, &ee):
			return string(out), ee.ExitCode()
		}
		t.Fatalf("havsd reload: %v", err)
		return "", 0
	}
	good, err := os.ReadFile(p.config(netlab.D1))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, text string
		code       int
		out        string // in havsd reload's output
		status     string // in the STATUS= with READY=1 after the reload
	}{
		{"valid change", strings.Replace(string(good), `scheduler = "rr"`, `scheduler = "wrr"`, 1), 0, "reloaded", "reload applied"},
		{"unchanged", strings.Replace(string(good), `scheduler = "rr"`, `scheduler = "wrr"`, 1), 0, "no change", "reload applied"},
		{"invalid", string(good) + "\nvrrp_instance {\n", 3, p.config(netlab.D1) + ":", "reload REJECTED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.writeConfig(netlab.D1, tc.text)
			n := ns.len()
			before := monotonicUsec(t)
			out, code := reload()
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Errorf("havsd reload: exit %d, output:\n%s\nwant exit %d and %q", code, out, tc.code, tc.out)
			}
			m := ns.waitMsg(t, n, "RELOADING=1", "MONOTONIC_USEC=")
			_, v, _ := strings.Cut(m, "MONOTONIC_USEC=")
			usec, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			if err != nil || usec < before || usec > monotonicUsec(t) {
				t.Errorf("RELOADING=1 with MONOTONIC_USEC=%d (%v), want within the reload [%d, now]", usec, err, before)
			}
			ns.waitMsg(t, n, "READY=1", "STATUS="+tc.status)
		})
	}
}
