package main

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/control"
	"github.com/havsd/havsd/director"
	"github.com/havsd/havsd/test/poll"
)

func watchFixture(state string, at time.Time) director.Status {
	return director.Status{
		RouterID: "lvs1", ConfigFile: "/etc/havsd/havsd.hcl",
		Instances: []director.InstanceStatus{
			{Name: "VI_1", VRID: 51, State: state, Priority: 150, EffectivePriority: 150, VIPs: []string{"192.0.2.10/24"}, HeldVIPs: []string{"192.0.2.10/24"},
				LastTransition: &director.Transition{From: "backup", To: state, Reason: "master down timer expired", At: at}},
			{Name: "VI_2", VRID: 52, State: "backup", Priority: 100, EffectivePriority: 100, VIPs: []string{"192.0.2.11/24"}},
		},
		Services: []director.ServiceStatus{{
			Key: "tcp 192.0.2.10:80", Programmed: true,
			Rates: director.Rates{Conns: 12, PacketsIn: 340, PacketsOut: 250_000, BytesIn: 56_000, BytesOut: 12_345_678},
			Reals: []director.RealStatus{
				{Address: "198.51.100.11:80", KernelWeight: 1, Health: "up", ActiveConns: 7, Rates: director.Rates{Conns: 5, PacketsIn: 100}},
				{Address: "198.51.100.12:80", KernelWeight: 0, Health: "down", Rates: director.Rates{}},
			},
		}},
	}
}

func TestWriteWatch(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	long := now.Add(-time.Hour)
	for _, tc := range []struct {
		name      string
		cur       director.Status
		prev      *director.Status
		highlight bool
		marked    []string // instance rows that must stand out
	}{
		{"steady", watchFixture("master", long), ptr(watchFixture("master", long)), true, nil},
		{"changed since the last frame", watchFixture("master", long), ptr(watchFixture("backup", long)), true, []string{"VI_1"}},
		{"changed recently, first frame", watchFixture("master", now.Add(-3*time.Second)), nil, true, []string{"VI_1"}},
		{"changed, no terminal", watchFixture("master", long), ptr(watchFixture("backup", long)), false, []string{"VI_1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeWatch(&b, tc.cur, tc.prev, now, 2*time.Second, tc.highlight)
			out := b.String()
			for _, want := range []string{"Every 2s: havsd lvs1", "TCP 192.0.2.10:80", "250K", "12M", "56000", "-> 198.51.100.11:80", "down", "MASTER"} {
				if !strings.Contains(out, want) {
					t.Errorf("frame lacks %q:\n%s", want, out)
				}
			}
			for _, line := range strings.Split(out, "\n") {
				name := strings.Fields(strings.TrimLeft(strings.TrimPrefix(line, ansiHighlight), "* "))
				if len(name) == 0 || !strings.HasPrefix(name[0], "VI_") {
					continue
				}
				want := contains(tc.marked, name[0])
				got := strings.HasPrefix(line, ansiHighlight) || strings.HasPrefix(line, "*")
				if got != want {
					t.Errorf("row %q highlighted %v, want %v", line, got, want)
				}
				if !tc.highlight && strings.Contains(line, "\x1b") {
					t.Errorf("escape codes without a terminal: %q", line)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestHuman(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 99_999: "99999", 100_000: "100K", 12_345_678: "12M", 98_765_432_100: "98G"} {
		if got := human(n); got != want {
			t.Errorf("human(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestStatusWatch runs the refreshing view against a control socket whose
// director changes state between frames, until it is interrupted.
func TestStatusWatch(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	sock := serveControl(t, func(ctx context.Context, req control.Request) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		state := "backup"
		if calls > 1 {
			state = "master"
		}
		return watchFixture(state, time.Now().Add(-time.Hour)), nil
	})
	ctx := t.Context()

	for _, asJSON := range []bool{false, true} {
		out := &poll.Buffer{}
		c := &cli{stdout: out, stderr: out}
		wctx, stop := context.WithCancel(ctx)
		done := make(chan int, 1)
		go func() { done <- c.statusWatch(wctx, sock, 20*time.Millisecond, asJSON) }()
		frames := func() int {
			if asJSON {
				return strings.Count(out.String(), "\n")
			}
			return strings.Count(out.String(), "Every 20ms")
		}
		poll.For(10*time.Second, func() bool { return frames() >= 3 })
		stop()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("json=%v: exit %d after interruption, want 0:\n%s", asJSON, code, out.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("statusWatch did not return after its context ended")
		}
		if frames() < 3 {
			t.Fatalf("json=%v: %d frames in 10 s:\n%s", asJSON, frames(), out.String())
		}
		if !asJSON && !strings.Contains(out.String(), "* VI_1") {
			t.Errorf("the backup->master change is not marked:\n%s", out.String())
		}
		if asJSON && !strings.Contains(out.String(), `"conns":12,"packets_in":340`) {
			t.Errorf("JSON frames lack the service rates:\n%s", out.String())
		}
	}
	if code := (&cli{stdout: io.Discard, stderr: io.Discard}).statusWatch(ctx, sock, 0, false); code != exitUsage {
		t.Errorf("interval 0: exit %d, want %d", code, exitUsage)
	}
}
