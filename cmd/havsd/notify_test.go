package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/havsd/havsd/director"
	"github.com/havsd/havsd/internal/sdnotify"
	"github.com/havsd/havsd/test/poll"
)

func TestStatusLine(t *testing.T) {
	st := director.Status{
		Instances: []director.InstanceStatus{{Name: "VI_1", State: "master"}, {Name: "VI_2", State: "backup"}},
		Services:  []director.ServiceStatus{{QuorumUp: true}, {QuorumUp: false}, {QuorumUp: true}},
	}
	if got, want := statusLine(st), "VI_1 MASTER, VI_2 BACKUP; services 2/3 up"; got != want {
		t.Errorf("statusLine = %q, want %q", got, want)
	}
	st.LastReload = director.ReloadStatus{Count: 1, OK: false}
	if got := statusLine(st); !strings.HasSuffix(got, "; last reload REJECTED") {
		t.Errorf("statusLine after a rejected reload = %q", got)
	}
}

func TestStuckLoop(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	in := func(name string, hb time.Time, advert string) director.InstanceStatus {
		return director.InstanceStatus{Name: name, Heartbeat: hb, AdvertInterval: advert}
	}
	for _, tc := range []struct {
		name    string
		st      director.Status
		stuckIn string
	}{
		{"all ran just now", director.Status{Instances: []director.InstanceStatus{in("VI_1", now.Add(-time.Second), "1s"), in("VI_2", now, "100ms")}}, ""},
		{"no instances", director.Status{}, ""},
		{"one silent past the dead-man switch", director.Status{Instances: []director.InstanceStatus{in("VI_1", now, "1s"), in("VI_2", now.Add(-7*time.Second), "1s")}}, "VI_2"},
		{"silent but within 3s + 3 adverts", director.Status{Instances: []director.InstanceStatus{in("VI_1", now.Add(-5*time.Second), "1s")}}, ""},
		{"never ran, just started", director.Status{Started: now.Add(-time.Second), Instances: []director.InstanceStatus{in("VI_1", time.Time{}, "1s")}}, ""},
		{"never ran, started long ago", director.Status{Started: now.Add(-time.Minute), Instances: []director.InstanceStatus{in("VI_1", time.Time{}, "1s")}}, "VI_1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why := stuckLoop(tc.st, now)
			if (why == "") != (tc.stuckIn == "") || !strings.Contains(why, tc.stuckIn) {
				t.Errorf("stuckLoop = %q, want one naming %q", why, tc.stuckIn)
			}
		})
	}
}

// notifyListener collects the datagrams sent to a NOTIFY_SOCKET.
type notifyListener struct {
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) (string, *notifyListener) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	l := &notifyListener{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, string(buf[:n]))
			l.mu.Unlock()
		}
	}()
	return path, l
}

// count returns how many datagrams so far contain s.
func (l *notifyListener) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// waitFor polls until cond holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, 10*time.Second, what, cond)
}

// TestWatchdog: WATCHDOG=1 goes out while the director answers and every
// VRRP loop runs, and stops while a loop is stuck or the director does not
// answer; STATUS= keeps saying what is going on.
func TestWatchdog(t *testing.T) {
	path, l := listenNotify(t)
	var mu sync.Mutex
	mode := "alive"
	status := func(ctx context.Context) (director.Status, error) {
		mu.Lock()
		m := mode
		mu.Unlock()
		now := time.Now()
		switch m {
		case "director stuck":
			<-ctx.Done()
			return director.Status{}, errors.New("no answer")
		case "vrrp stuck":
			now = now.Add(-time.Minute)
		}
		return director.Status{Instances: []director.InstanceStatus{{Name: "VI_1", State: "master", AdvertInterval: "1s", Heartbeat: now}}}, nil
	}
	n := &notifier{sd: sdnotify.New(path), status: status, log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now, watchdog: 40 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	waitFor(t, "3 WATCHDOG=1 while alive", func() bool { return l.count("WATCHDOG=1") >= 3 })
	if l.count("STATUS=VI_1 MASTER; services 0/0 up") == 0 {
		t.Error("no STATUS= line with the instance states")
	}
	for _, stuck := range []string{"vrrp stuck", "director stuck"} {
		t.Run(stuck, func(t *testing.T) {
			mu.Lock()
			mode = stuck
			mu.Unlock()
			// Let a tick in flight finish, then watch five watchdog periods.
			time.Sleep(60 * time.Millisecond)
			before := l.count("WATCHDOG=1")
			time.Sleep(200 * time.Millisecond)
			if got := l.count("WATCHDOG=1") - before; got != 0 {
				t.Errorf("%d WATCHDOG=1 sent while %s", got, stuck)
			}
			mu.Lock()
			mode = "alive"
			mu.Unlock()
			before = l.count("WATCHDOG=1")
			waitFor(t, "WATCHDOG=1 again", func() bool { return l.count("WATCHDOG=1") > before })
		})
	}
}

func TestNotifierDisabled(t *testing.T) {
	n := &notifier{sd: sdnotify.New(""), status: func(context.Context) (director.Status, error) {
		t.Error("status asked with no NOTIFY_SOCKET")
		return director.Status{}, nil
	}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now, watchdog: time.Millisecond}
	done := make(chan struct{})
	go func() { n.run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return without a NOTIFY_SOCKET")
	}
}
