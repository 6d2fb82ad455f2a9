package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/control"
	"github.com/havsd/havsd/director"
)

// TestDrainWaitsForTraffic runs havsd drain against a control socket whose
// director drains and then reports the connections falling to none: the
// command asks for the drain with its -for, then polls the status until
// the traffic has moved.
func TestDrainWaitsForTraffic(t *testing.T) {
	var mu sync.Mutex
	var reqs []control.Request
	statuses := 0
	now := time.Now()
	sock := serveControl(t, func(_ context.Context, req control.Request) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		reqs = append(reqs, req)
		switch req.Command {
		case "drain":
			return director.BGPWaitStatus{Since: now, Until: now.Add(time.Minute), RoutesOut: true}, nil
		case "status":
			statuses++
			w := director.BGPWaitStatus{Since: now, Until: now.Add(time.Minute), RoutesOut: true, Read: true, ActiveConns: 3}
			if statuses >= 2 {
				w.ActiveConns, w.Moved = 0, true
			}
			return director.Status{BGP: &director.BGPStatus{Drain: &w}}, nil
		}
		return nil, nil
	})
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb}
	if code := c.main(context.Background(), []string{"drain", "-s", sock, "-for", "2m"}); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if reqs[0].Command != "drain" || reqs[0].For != "2m0s" {
		t.Errorf("first request = %+v, want drain for 2m0s", reqs[0])
	}
	if statuses != 2 {
		t.Errorf("status polled %d times, want 2 (until the traffic moved)", statuses)
	}
	if !strings.Contains(out.String(), "every BGP route is withdrawn") || !strings.Contains(out.String(), "traffic has moved") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestUndrain(t *testing.T) {
	for _, was := range []bool{true, false} {
		sock := serveControl(t, func(_ context.Context, req control.Request) (any, error) {
			if req.Command != "undrain" {
				t.Errorf("request %q, want undrain", req.Command)
			}
			return was, nil
		})
		var out bytes.Buffer
		c := &cli{stdout: &out, stderr: &out}
		if code := c.main(context.Background(), []string{"undrain", "-s", sock}); code != exitOK {
			t.Fatalf("exit %d: %s", code, out.String())
		}
		want := map[bool]string{true: "drain ended", false: "not drained"}[was]
		if !strings.Contains(out.String(), want) {
			t.Errorf("was drained %v: output %q, want %q", was, out.String(), want)
		}
	}
}

func TestWriteBGP(t *testing.T) {
	now := time.Now()
	var b bytes.Buffer
	writeBGP(&b, &director.BGPStatus{ASN: 65001, RouterID: "10.0.0.11", Running: true,
		Neighbors: []director.BGPNeighborStatus{
			{Address: "10.0.0.1", ASN: 65000, State: "established", UptimeSeconds: 90, MsgsSent: 5, MsgsReceived: 6, UpdatesSent: 2},
			{Address: "10.0.0.2", ASN: 65009, State: "active", LastError: "bad peer AS"}},
		VIPs: []director.BGPVIPStatus{
			{Prefix: "192.0.2.10/32", Services: []string{"web"}, State: "announced", Reason: "serving: web programmed with quorum", InSpeaker: true, OnLoopback: true},
			{Prefix: "192.0.2.11/32", Services: []string{"api"}, State: "withdrawn", Reason: "service api lost quorum", OnLoopback: true}},
		Drain: &director.BGPWaitStatus{Since: now, Until: now.Add(time.Minute), Read: true, ActiveConns: 2},
	})
	for _, want := range []string{
		"BGP AS 65001 router id 10.0.0.11, speaker running",
		"10.0.0.1  65000  ESTABLISHED  1m30s",
		"10.0.0.2  65009  ACTIVE",
		"bad peer AS",
		"192.0.2.10/32  ANNOUNCED",
		"192.0.2.11/32  WITHDRAWN",
		"service api lost quorum",
		"DRAINED (havsd undrain ends it)",
		"2 active connection(s) left",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
