package checks

import (
	"bytes"
	"net"
	"net/netip"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/havsd/havsd/test/need"
	"github.com/havsd/havsd/test/poll"
)

// noLeaks fails the test if the goroutine count has not returned to its
// value at the call within a few seconds after the test and its cleanups.
// Call it first, so that its cleanup runs last.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		if !poll.For(5*time.Second, func() bool { return runtime.NumGoroutine() <= before }) {
			var buf bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&buf, 1)
			t.Errorf("goroutine leak: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf.String())
		}
	})
}

// listenTCP listens on a loopback address (127.0.0.0/8 is all local on Linux).
func listenTCP(t *testing.T, ip string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// serveTCP listens on a loopback address and passes every connection it
// accepts to handle, on one goroutine, until the test ends; handle closes the
// connection (or starts a goroutine that does).
func serveTCP(t *testing.T, ip string, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln := listenTCP(t, ip)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
	return addrPort(t, ln.Addr())
}

func addrPort(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatalf("parse %s: %v", a, err)
	}
	return ap
}

// requireRoot skips a test that needs root, except in CI where it fails.
func requireRoot(t *testing.T, why string) {
	t.Helper()
	need.Root(t, why)
}
