package sdnotify

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// listen opens a NOTIFY_SOCKET-style listener and returns its name and a
// function reading the next datagram.
func listen(t *testing.T, name string) func() string {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listening on %q: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return func() string {
		t.Helper()
		buf := make([]byte, 4096)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("reading notification: %v", err)
		}
		return string(buf[:n])
	}
}

func TestSend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	abstract := "@havsd-sdnotify-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, tc := range []struct {
		name, socket, listenOn string
	}{
		{"path", path, path},
		{"abstract", abstract, "\x00" + abstract[1:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := listen(t, tc.listenOn)
			n := New(tc.socket)
			if err := n.Send(Ready, Status("2 instances\nmaster")); err != nil {
				t.Fatal(err)
			}
			if got, want := next(), "READY=1\nSTATUS=2 instances master"; got != want {
				t.Errorf("datagram %q, want %q", got, want)
			}
		})
	}
}

func TestReloadingCarriesMonotonicTime(t *testing.T) {
	before := monotonicUsec()
	a := Reloading()
	after := monotonicUsec()
	if len(a) != 2 || a[0] != "RELOADING=1" || !strings.HasPrefix(a[1], "MONOTONIC_USEC=") {
		t.Fatalf("Reloading() = %q", a)
	}
	u, err := strconv.ParseInt(strings.TrimPrefix(a[1], "MONOTONIC_USEC="), 10, 64)
	if err != nil || u < before || u > after || u == 0 {
		t.Errorf("MONOTONIC_USEC=%d (err %v), want within [%d, %d]", u, err, before, after)
	}
}

func TestDisabledIsNoop(t *testing.T) {
	var nilN *Notifier
	for _, n := range []*Notifier{nilN, {}, New("")} {
		if n.Enabled() {
			t.Errorf("%#v enabled", n)
		}
		if err := n.Send(Ready); err != nil {
			t.Errorf("Send on a disabled notifier: %v", err)
		}
	}
	if err := New(filepath.Join(t.TempDir(), "absent")).Send(Ready); err == nil {
		t.Error("Send to a missing socket: no error")
	}
}

func TestWatchdogInterval(t *testing.T) {
	type out struct {
		D  time.Duration
		OK bool
	}
	for _, tc := range []struct {
		name, usec, pid string
		want            out
	}{
		{"unset", "", "", out{}},
		{"for us", "30000000", "42", out{30 * time.Second, true}},
		{"no pid", "500000", "", out{500 * time.Millisecond, true}},
		{"other pid", "30000000", "7", out{}},
		{"garbage", "soon", "", out{}},
		{"zero", "0", "", out{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := watchdogInterval(tc.usec, tc.pid, 42)
			if diff := cmp.Diff(tc.want, out{d, ok}); diff != "" {
				t.Error(diff)
			}
		})
	}
}
