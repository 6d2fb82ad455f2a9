package vrrp

import (
	"context"
	"net/netip"
)

// Conn sends and receives VRRP payloads. RawConn is the real one; tests
// inject fakes through Options.
type Conn interface {
	// ReadFrom blocks for the next payload addressed to this instance's
	// interface; it fails once the Conn is closed.
	ReadFrom(b []byte) (Datagram, error)
	// WriteTo sends a payload to dst (the group or a unicast peer).
	WriteTo(b []byte, dst netip.Addr) error
	// LocalAddr is the primary address adverts are sent from.
	LocalAddr() netip.Addr
	Close() error
}

// LinkState is the state of a watched interface.
type LinkState struct {
	Name  string
	Up    bool // administratively up with carrier
	Gone  bool // the interface does not exist
	Index int  // interface index (0: unknown)
}

// LinkWatcher reports the state of the named links, first their current
// state (a missing link is reported Gone) and then every change, until ctx
// is done.
type LinkWatcher interface {
	Watch(ctx context.Context, names []string, out chan<- LinkState) error
}

// AddrWatcher signals on kick (without blocking) whenever an address is
// added or removed anywhere on the host, until ctx is done.
type AddrWatcher interface {
	WatchAddrs(ctx context.Context, kick chan<- struct{}) error
}
