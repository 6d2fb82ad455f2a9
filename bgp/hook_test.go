package bgp

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestHookTurnsGoBGPRecordsIntoErrors feeds the hook the records GoBGP's
// neighbour logger writes and checks what reaches the owner and the log.
func TestHookTurnsGoBGPRecordsIntoErrors(t *testing.T) {
	var out bytes.Buffer
	var got []event
	h := &hookHandler{inner: slog.NewTextHandler(&out, nil), post: func(_ context.Context, ev event, wait bool) {
		if wait {
			t.Error("the hook waited to post")
		}
		got = append(got, ev)
	}}
	peer := slog.New(h).With("Topic", "Peer", "Key", "192.0.2.1")
	global := slog.New(h).With("Topic", "Server")
	peer.Debug("failed to connect", "Error", "dial tcp 192.0.2.1:179: connect: connection refused")
	peer.Info("sent notification", "State", "BGP_FSM_OPENSENT", "Code", 2, "Subcode", 2, "Data", []byte{})
	peer.Info("received notification", "Code", 6, "Subcode", 2, "Communicated-Reason", "maintenance", "Data", []byte{})
	peer.Info("state changed", "old", "a", "new", "b")
	global.Debug("failed to connect", "Error", "not a neighbour's record")
	global.Warn("something GoBGP warns about")
	global.Info("chatter")

	a := netip.MustParseAddr("192.0.2.1")
	want := []event{
		{addr: a, connErr: "dial tcp 192.0.2.1:179: connect: connection refused"},
		{addr: a, connErr: "sent notification: code 2(open) subcode 2(bad peer as)"},
		{addr: a, connErr: "received notification: code 6(cease) subcode 2(administrative shutdown): maintenance"},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	log := out.String()
	if !strings.Contains(log, "something GoBGP warns about") || strings.Contains(log, "chatter") || strings.Contains(log, "failed to connect") {
		t.Errorf("GoBGP's Warn records should pass, its Info and Debug not:\n%s", log)
	}
}

// TestKeepaliveRounding: GoBGP takes whole seconds.
func TestKeepaliveRounding(t *testing.T) {
	for _, tc := range []struct{ hold, keep time.Duration }{{9 * time.Second, 3 * time.Second}, {10 * time.Second, 3 * time.Second}, {3 * time.Second, time.Second}, {0, 0}} {
		if k := (Neighbor{HoldTime: tc.hold}).keepalive(); k != tc.keep {
			t.Errorf("hold %v: keepalive %v, want %v", tc.hold, k, tc.keep)
		}
	}
}
