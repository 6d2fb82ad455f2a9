package bgp

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"

	gbgp "github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// hookHandler passes GoBGP's log records to havsd's handler at Warn and
// above, and turns its per-neighbour connection failures (logged at Debug,
// and nowhere else visible) into events for the owner, so Status can say why
// a neighbour stays in active.
type hookHandler struct {
	inner slog.Handler
	post  func(ctx context.Context, ev event, wait bool)
	peer  netip.Addr // from the logger's "Key" attribute, GoBGP's neighbour logger
}

// gobgpMinLevel keeps GoBGP's own chatter (every FSM step at Info or Debug)
// out of havsd's log; havsd logs session changes itself.
const gobgpMinLevel = slog.LevelWarn

func (h *hookHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.peer.IsValid() || (l >= gobgpMinLevel && h.inner.Enabled(ctx, l))
}

func (h *hookHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.peer.IsValid() {
		if msg := peerError(r); msg != "" {
			h.post(ctx, event{addr: h.peer, connErr: msg}, false)
		}
	}
	if r.Level < gobgpMinLevel || !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

// peerError turns GoBGP's record of a failed connection or of a
// NOTIFICATION into an error text, "" for other records. A session refused
// in OPEN (a wrong ASN) never reaches a state change GoBGP reports: this is
// where it shows.
func peerError(r slog.Record) string {
	var text, reason string
	var code, sub int64
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "Error":
			text = a.Value.String()
		case "Code":
			code = a.Value.Int64()
		case "Subcode":
			sub = a.Value.Int64()
		case "Communicated-Reason":
			reason = a.Value.String()
		}
		return true
	})
	switch r.Message {
	case "failed to connect":
		return text
	case "sent notification", "received notification":
		msg := strings.TrimSuffix(r.Message, " notification") + " notification: " +
			gbgp.NewNotificationErrorCode(uint8(code), uint8(sub)).String()
		if reason != "" {
			msg += ": " + reason
		}
		return msg
	}
	return ""
}

func (h *hookHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.inner = h.inner.WithAttrs(as)
	for _, a := range as {
		if a.Key == "Key" {
			if addr, err := netip.ParseAddr(a.Value.String()); err == nil {
				c.peer = addr
			}
		}
	}
	return &c
}

func (h *hookHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.inner = h.inner.WithGroup(name)
	return &c
}
