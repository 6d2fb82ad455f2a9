package checks

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/test/poll"
)

// onLoop runs checker c once on an epoll loop of its own.
func onLoop(t *testing.T, c Checker) error {
	t.Helper()
	job, ok := evJobOf(c)
	if !ok {
		t.Fatalf("%T is not a loop check", c)
	}
	res := make(chan error, 1)
	l, err := newEvLoop(func(_ *evConn, err error, cancelled bool) {
		if cancelled {
			err = fmt.Errorf("cancelled")
		}
		res <- err
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { l.run(); close(done) }()
	defer func() { l.close(); <-done }()
	l.submit(&probe{}, job)
	select {
	case err := <-res:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no result from the loop")
		return nil
	}
}

// TestEvLoopMatchesGoroutineChecks: on the epoll loop, TCP and status-only
// HTTP checks give the same verdicts and messages as their Check methods.
func TestEvLoopMatchesGoroutineChecks(t *testing.T) {
	noLeaks(t)
	srv := httpServer(t, "127.0.0.5", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			http.Error(w, "down", http.StatusInternalServerError)
		case "/long":
			w.Header().Set("X-Long", strings.Repeat("a", 3000))
			fmt.Fprint(w, "ok")
		case "/silent":
			<-r.Context().Done()
		default:
			fmt.Fprint(w, "ok")
		}
	}))
	raw := listenTCP(t, "127.0.0.5") // answers garbage, then closes
	go func() {
		for {
			c, err := raw.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9\r\n\r\n"))
			c.Close()
		}
	}()
	closed := listenTCP(t, "127.0.0.5")
	closedAP := addrPort(t, closed.Addr())
	closed.Close()
	httpSpec := func(ap string, path string, status ...StatusRange) Spec {
		return Spec{Kind: KindHTTP, Target: netip.MustParseAddrPort(ap), Timeout: 300 * time.Millisecond, HTTP: &HTTPSpec{Path: path, Status: status}}
	}
	tests := []struct {
		name    string
		spec    Spec
		wantErr string // "" for a pass
	}{
		{"tcp up", Spec{Kind: KindTCP, Target: srv, Timeout: time.Second}, ""},
		{"tcp refused", Spec{Kind: KindTCP, Target: closedAP, Timeout: time.Second}, "connection refused"},
		{"http 200", httpSpec(srv.String(), "/"), ""},
		{"http 500", httpSpec(srv.String(), "/500"), "HTTP status 500 not in 200-299"},
		{"http 500 accepted", httpSpec(srv.String(), "/500", StatusRange{500, 500}), ""},
		{"http long header", httpSpec(srv.String(), "/long"), ""},
		{"http silent", httpSpec(srv.String(), "/silent"), "timeout after 300ms waiting for response headers"},
		{"http refused", httpSpec(closedAP.String(), "/"), "connection refused"},
		{"not http", httpSpec(raw.Addr().String(), "/"), "malformed HTTP status line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, tc.spec)
			want := c.Check(context.Background())
			got := onLoop(t, c)
			if (got == nil) != (tc.wantErr == "") || got != nil && !strings.Contains(got.Error(), tc.wantErr) {
				t.Fatalf("loop: %v; want %q", got, tc.wantErr)
			}
			if (want == nil) != (got == nil) || want != nil && want.Error() != got.Error() {
				t.Errorf("loop says %v, Check says %v", got, want)
			}
		})
	}
}

// A scheduler's TCP probes (each its own checker) run on the epoll loop
// with Options.EventLoop and on goroutines without it, with the same
// verdicts: a listening server stays up, a closed port goes down with the
// kernel's reason.
func TestSchedulerTCPProbes(t *testing.T) {
	for _, loop := range []bool{false, true} {
		t.Run(fmt.Sprintf("EventLoop=%v", loop), func(t *testing.T) {
			noLeaks(t)
			open := addrPort(t, listenTCP(t, "127.0.0.6").Addr())
			closedLn := listenTCP(t, "127.0.0.6")
			closed := addrPort(t, closedLn.Addr())
			closedLn.Close()
			s := NewScheduler(Options{EventLoop: loop})
			spec := func(ap netip.AddrPort) []Spec {
				return []Spec{{Kind: KindTCP, Target: ap, Interval: 50 * time.Millisecond, Timeout: time.Second}}
			}
			s.Set(map[ID][]Spec{"open": spec(open), "closed": spec(closed)})
			if _, ok := s.eng.targets["open"].probes[0].checker.(*tcpProbe); !ok {
				t.Fatalf("checker is %T, want the probe itself", s.eng.targets["open"].probes[0].checker)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { s.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			select {
			case tr := <-s.Transitions():
				if tr.ID != "closed" || tr.Up || !strings.Contains(tr.Reason, "connect "+closed.String()+": connection refused") {
					t.Errorf("transition %+v", tr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no transition")
			}
			poll.Until(t, 10*time.Second, "two checks of the open port", func() bool {
				return s.Status()["open"].Checks[0].ConsecutiveSuccesses >= 2
			})
			if h := s.Status()["open"]; !h.Up || h.LastError != "" {
				t.Errorf("open: %+v", h)
			}
		})
	}
}
