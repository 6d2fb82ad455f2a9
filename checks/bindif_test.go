package checks

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/test/need"
)

// TestBindIf: a check bound to lo reaches a loopback server; bound to an
// interface that does not exist it fails, saying so; the epoll loop leaves
// bound checks to the goroutine checkers that honour it.
func TestBindIf(t *testing.T) {
	need.Root(t, "SO_BINDTODEVICE needs CAP_NET_RAW")
	target := serveTCP(t, "127.0.0.1", func(c net.Conn) { c.Close() })
	for _, tt := range []struct {
		kind    Kind
		ifname  string
		wantErr string
	}{
		{KindTCP, "lo", ""},
		{KindTCP, "p2nosuchif0", "no such device"},
		{KindSMTP, "p2nosuchif0", "no such device"},
	} {
		t.Run(tt.kind.String()+" "+tt.ifname, func(t *testing.T) {
			c, err := New(Spec{Kind: tt.kind, Target: target, Timeout: time.Second, BindIf: tt.ifname})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := evJobOf(c); ok {
				t.Error("the epoll loop would run a bound check without the binding")
			}
			err = c.Check(context.Background())
			if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Check = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
