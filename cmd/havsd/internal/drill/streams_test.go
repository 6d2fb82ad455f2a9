package drill

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/havsd/havsd/test/poll"
)

// echoServer accepts on loopback and echoes; kill resets the first k
// connections it accepted, as a director without the connection would.
func echoServer(t *testing.T) (netip.AddrPort, func(k int)) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var conns []*net.TCPConn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c.(*net.TCPConn))
			mu.Unlock()
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	kill := func(k int) {
		// The dials complete in the kernel's backlog before Accept
		// returns them, so wait for the first k to be accepted.
		poll.Until(t, 5*time.Second, "the server to accept the connections", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(conns) >= k
		})
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns[:k] {
			c.SetLinger(0) // close with a reset
			c.Close()
		}
	}
	return netip.MustParseAddrPort(ln.Addr().String()), kill
}

func TestStreams(t *testing.T) {
	addr, kill := echoServer(t)
	s, err := OpenStreams(context.Background(), nil, StreamsConfig{Target: Target{Scheme: "tcp", Addr: addr}, N: 5, Gap: 2 * time.Millisecond, Deadline: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s.Event(time.Now())
	kill(2)
	poll.Until(t, 5*time.Second, "exchanges after the event", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := 0
		for _, st := range s.ss {
			st.mu.Lock()
			if st.after > 3 || st.err != nil {
				n++
			}
			st.mu.Unlock()
		}
		return n == 5
	})
	r := s.Stop()
	if r.Survived != 3 || len(r.Streams) != 5 || r.Streams[0].Survived || r.Streams[0].Err == nil || !r.Streams[4].Survived {
		t.Errorf("report %+v", r)
	}
	t.Log(r.Line())
}

func TestStreamsHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") }))
	t.Cleanup(srv.Close)
	addr := netip.MustParseAddrPort(srv.Listener.Addr().String())
	s, err := OpenStreams(context.Background(), nil, StreamsConfig{Target: Target{Scheme: "http", Addr: addr, URL: srv.URL + "/"}, N: 2, Gap: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.Event(time.Now())
	poll.Until(t, 5*time.Second, "keep-alive exchanges after the event", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, st := range s.ss {
			st.mu.Lock()
			after := st.after
			st.mu.Unlock()
			if after < 3 {
				return false
			}
		}
		return true
	})
	if r := s.Stop(); r.Survived != 2 {
		t.Errorf("report %+v", r)
	}
}
