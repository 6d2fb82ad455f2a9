package checks

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/havsd/havsd/internal/procstat"
	"github.com/havsd/havsd/test/poll"
)

// httpServer serves h on a fresh listener at ip and returns its address.
func httpServer(t *testing.T, ip string, h http.Handler) netip.AddrPort {
	t.Helper()
	ln := listenTCP(t, ip)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return addrPort(t, ln.Addr())
}

func mustNew(t *testing.T, s Spec) Checker {
	t.Helper()
	c, err := New(s)
	if err != nil {
		t.Fatalf("New(%+v): %v", s, err)
	}
	return c
}

// wantErr checks err against a substring; "" means success expected.
func wantErr(t *testing.T, err error, sub string) {
	t.Helper()
	if err != nil {
		t.Logf("check error: %v", err)
	}
	switch {
	case sub == "" && err != nil:
		t.Errorf("check failed: %v", err)
	case sub != "" && err == nil:
		t.Errorf("check passed, want error containing %q", sub)
	case sub != "" && !strings.Contains(err.Error(), sub):
		t.Errorf("error %q does not contain %q", err, sub)
	}
}

func TestTCPCheck(t *testing.T) {
	noLeaks(t)
	ln := listenTCP(t, "127.0.0.2")
	ap := addrPort(t, ln.Addr())
	c := mustNew(t, Spec{Kind: KindTCP, Target: ap, Timeout: time.Second})
	wantErr(t, c.Check(t.Context()), "")
	ln.Close() // the server stops listening
	wantErr(t, c.Check(t.Context()), fmt.Sprintf("connect %s: connection refused", ap))
}

func TestHTTPCheck(t *testing.T) {
	noLeaks(t)
	body := "hello, world\n"
	sum := md5.Sum([]byte(body))
	digest := hex.EncodeToString(sum[:])
	var gotHost atomic.Value
	var changed atomic.Bool
	ap := httpServer(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost.Store(r.Host)
		switch r.URL.Path {
		case "/500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/moved":
			http.Redirect(w, r, "/", http.StatusFound)
		case "/body":
			if changed.Load() {
				fmt.Fprint(w, "hello, changed\n")
				return
			}
			fmt.Fprint(w, body)
		case "/big":
			w.Write(make([]byte, 4096))
		default:
			fmt.Fprint(w, body)
		}
	}))
	spec := func(h HTTPSpec) Spec {
		return Spec{Kind: KindHTTP, Target: ap, Timeout: 2 * time.Second, HTTP: &h}
	}
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"ok", spec(HTTPSpec{Path: "/"}), ""},
		{"500", spec(HTTPSpec{Path: "/500"}), "HTTP status 500 not in 200-299"},
		{"500 accepted", spec(HTTPSpec{Path: "/500", Status: []StatusRange{{500, 599}}}), ""},
		{"redirect not followed", spec(HTTPSpec{Path: "/moved"}), "HTTP status 302 not in 200-299"},
		{"digest ok", spec(HTTPSpec{Path: "/body", Digest: digest}), ""},
		{"digest upper-case ok", spec(HTTPSpec{Path: "/body", Digest: strings.ToUpper(digest)}), ""},
		{"regex ok", spec(HTTPSpec{Path: "/", Regex: "wor.d"}), ""},
		{"regex fails", spec(HTTPSpec{Path: "/", Regex: "^nope"}), `body does not match regex "^nope"`},
		{"body too big", spec(HTTPSpec{Path: "/big", Digest: digest, MaxBody: 1000}), "body larger than 1000 bytes"},
		{"keep-alive", spec(HTTPSpec{Path: "/", KeepAlive: true}), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, tc.spec)
			wantErr(t, c.Check(t.Context()), tc.want)
			wantErr(t, c.Check(t.Context()), tc.want) // and again, on a new or reused connection
		})
	}
	t.Run("body changes", func(t *testing.T) {
		c := mustNew(t, spec(HTTPSpec{Path: "/body", Digest: digest}))
		wantErr(t, c.Check(t.Context()), "")
		changed.Store(true)
		wantErr(t, c.Check(t.Context()), "body digest "+md5hex("hello, changed\n")+" != expected "+digest)
	})
	t.Run("host header", func(t *testing.T) {
		c := mustNew(t, spec(HTTPSpec{Path: "/", Host: "www.example.test"}))
		wantErr(t, c.Check(t.Context()), "")
		if h := gotHost.Load(); h != "www.example.test" {
			t.Errorf("server saw Host %q", h)
		}
	})
	t.Run("digest helper", func(t *testing.T) {
		status, got, err := Digest(t.Context(), DigestRequest{URL: "http://" + ap.String() + "/500"})
		if err != nil || status != 500 || got != md5hex("boom\n") {
			t.Errorf("Digest = %d, %q, %v; want 500, md5(\"boom\\n\")", status, got, err)
		}
	})
}

func TestHTTPKeepAliveStaleConnection(t *testing.T) {
	noLeaks(t)
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := mustNew(t, Spec{Kind: KindHTTP, Target: addrPort(t, srv.Listener.Addr()), Timeout: time.Second, HTTP: &HTTPSpec{KeepAlive: true}})
	wantErr(t, c.Check(t.Context()), "")
	wantErr(t, c.Check(t.Context()), "")
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for two kept-alive checks, want 1", n)
	}
	srv.CloseClientConnections() // the idle connection goes stale
	wantErr(t, c.Check(t.Context()), "")
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections after a stale one, want 2", n)
	}
	// Close drops the kept connection (the scheduler calls it on removal).
	c.(io.Closer).Close()
	wantErr(t, c.Check(t.Context()), "")
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections after Close, want 3", n)
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestHTTPCheckSourceBinding(t *testing.T) {
	noLeaks(t)
	var remote atomic.Value
	ap := httpServer(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remote.Store(r.RemoteAddr)
	}))
	c := mustNew(t, Spec{Kind: KindHTTP, Target: ap, Source: netip.MustParseAddr("127.0.0.7"), Timeout: time.Second})
	wantErr(t, c.Check(t.Context()), "")
	if r, _ := remote.Load().(string); !strings.HasPrefix(r, "127.0.0.7:") {
		t.Errorf("server saw the check from %q, want 127.0.0.7", r)
	}
}

func TestHTTPCheckDeadlines(t *testing.T) {
	noLeaks(t)
	// A server that accepts TCP but never answers HTTP.
	silent := listenTCP(t, "127.0.0.3")
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			go func() { <-done; conn.Close() }()
		}
	}()
	// A server that trickles its body, one byte every 100 ms for a minute.
	trickle := httpServer(t, "127.0.0.3", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "600")
		w.WriteHeader(http.StatusOK)
		for range 600 {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}))
	timeout := 500 * time.Millisecond
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"never answers", Spec{Kind: KindHTTP, Target: addrPort(t, silent.Addr()), Timeout: timeout},
			"timeout after 500ms waiting for response headers"},
		{"trickles", Spec{Kind: KindHTTP, Target: trickle, Timeout: timeout, HTTP: &HTTPSpec{Regex: "y"}},
			"timeout after 500ms reading body"},
		{"trickles, keep-alive drain", Spec{Kind: KindHTTP, Target: trickle, Timeout: timeout, HTTP: &HTTPSpec{KeepAlive: true}},
			"timeout after 500ms reading body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, tc.spec)
			start := time.Now()
			err := c.Check(t.Context())
			wantErr(t, err, tc.want)
			// Correctness bound, generous: the deadline holds against a
			// server that keeps the connection alive for a minute.
			if el := time.Since(start); el > timeout+5*time.Second {
				t.Errorf("check took %s with a %s timeout", el, timeout)
			}
		})
	}
}

func TestHTTPSCheck(t *testing.T) {
	noLeaks(t)
	var sni atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sni.Store(r.TLS.ServerName)
		fmt.Fprint(w, "secure")
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ap := addrPort(t, srv.Listener.Addr())
	spec := func(h HTTPSpec) Spec { return Spec{Kind: KindHTTPS, Target: ap, Timeout: 2 * time.Second, HTTP: &h} }
	wantErr(t, mustNew(t, spec(HTTPSpec{Digest: md5hex("secure"), TLSServerName: "rs1.example.test"})).Check(t.Context()), "")
	if s := sni.Load(); s != "rs1.example.test" {
		t.Errorf("server saw SNI %q", s)
	}
	wantErr(t, mustNew(t, spec(HTTPSpec{TLSVerify: true})).Check(t.Context()), "certificate")
}

func TestScriptCheck(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	target := netip.MustParseAddrPort("192.0.2.10:8080")
	tests := []struct {
		name    string
		argv    []string
		timeout time.Duration
		want    string
	}{
		{"exit 0", []string{"/bin/sh", "-c", "exit 0"}, time.Second, ""},
		{"env", []string{"/bin/sh", "-c", `test "$HAVSD_RS_ADDR:$HAVSD_RS_PORT" = 192.0.2.10:8080`}, time.Second, ""},
		{"exit 3 with output", []string{"/bin/sh", "-c", "echo backend sad; exit 3"}, time.Second, `exit status 3: output: "backend sad"`},
		{"no shell interpolation", []string{"/bin/echo", "$HOME; false"}, time.Second, ""},
		{"missing", []string{filepath.Join(dir, "nope")}, time.Second, "no such file"},
		{"hangs with a child", []string{"/bin/sh", "-c", "sleep 600 & echo $! > " + pidFile + "; sleep 600"},
			300 * time.Millisecond, "timeout after 300ms, process group killed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, Spec{Kind: KindScript, Target: target, Timeout: tc.timeout, Script: &ScriptSpec{Argv: tc.argv}})
			wantErr(t, c.Check(t.Context()), tc.want)
		})
	}
	// The hung script's background child died with its process group.
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("reading child pid: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if !poll.For(5*time.Second, func() bool { return !procstat.Alive(pid) }) {
		t.Fatalf("child %d of the hung script survived the timeout", pid)
	}
}

func TestScriptOutputBounded(t *testing.T) {
	noLeaks(t)
	c := mustNew(t, Spec{Kind: KindScript, Timeout: 2 * time.Second,
		Script: &ScriptSpec{Argv: []string{"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' a; exit 1"}}})
	err := c.Check(t.Context())
	if err == nil || len(err.Error()) > 2*maxScriptOutput || !strings.Contains(err.Error(), "more bytes]") {
		t.Errorf("error not bounded: %d bytes", len(fmt.Sprint(err)))
	}
}

func TestUDPCheck(t *testing.T) {
	noLeaks(t)
	echo, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			echo.WriteTo(buf[:n], from)
		}
	}()
	mute, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mute.Close() })
	closed, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAP := addrPort(t, closed.LocalAddr())
	closed.Close()
	udp := func(ap netip.AddrPort, expect bool) Spec {
		return Spec{Kind: KindUDP, Target: ap, Timeout: 300 * time.Millisecond, UDP: &UDPSpec{Payload: []byte("ping"), ExpectReply: expect}}
	}
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"echo", udp(addrPort(t, echo.LocalAddr()), true), ""},
		{"no reply expected", udp(addrPort(t, mute.LocalAddr()), false), ""},
		{"no reply", udp(addrPort(t, mute.LocalAddr()), true), "no reply within 300ms"},
		{"port unreachable", udp(closedAP, true), "ICMP port unreachable"},
		{"port unreachable, no reply expected", udp(closedAP, false), "ICMP port unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, mustNew(t, tc.spec).Check(t.Context()), tc.want)
		})
	}
}

func TestPingCheck(t *testing.T) {
	noLeaks(t)
	if !pingAllowed() {
		requireRoot(t, "ICMP echo: net.ipv4.ping_group_range excludes us and raw sockets need CAP_NET_RAW")
	}
	c := mustNew(t, Spec{Kind: KindPing, Target: netip.MustParseAddrPort("127.0.0.1:0"), Timeout: time.Second})
	wantErr(t, c.Check(t.Context()), "")
	// 127.0.0.0/8 is all local: nothing is unreachable, so check the deadline
	// path with a cancelled context instead.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Check(ctx); err == nil {
		t.Errorf("ping with a cancelled context passed")
	}
}

// pingAllowed reports whether this process may open a ping or raw socket.
func pingAllowed() bool {
	conn, _, err := listenICMP(false, Spec{})
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func TestDNSCheck(t *testing.T) {
	noLeaks(t)
	var nx atomic.Bool
	ap := dnsServer(t, "127.0.0.2", &nx)
	dns := func(name, typ string) Spec {
		return Spec{Kind: KindDNS, Target: ap, Timeout: time.Second, DNS: &DNSSpec{Name: name, Type: typ}}
	}
	wantErr(t, mustNew(t, dns("ok.test", "A")).Check(t.Context()), "")
	wantErr(t, mustNew(t, dns("ok.test.", "")).Check(t.Context()), "")
	wantErr(t, mustNew(t, dns("missing.test", "A")).Check(t.Context()), "missing.test. A: NXDOMAIN")
	nx.Store(true)
	wantErr(t, mustNew(t, dns("ok.test", "A")).Check(t.Context()), "ok.test. A: NXDOMAIN")
	mute, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mute.Close() })
	s := dns("ok.test", "A")
	s.Target, s.Timeout = addrPort(t, mute.LocalAddr()), 200*time.Millisecond
	wantErr(t, mustNew(t, s).Check(t.Context()), "no answer to ok.test. A within 200ms")
}

func TestNewRejectsBadSpecs(t *testing.T) {
	ap := netip.MustParseAddrPort("127.0.0.1:80")
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"invalid kind", Spec{Target: ap}, "invalid kind"},
		{"no target", Spec{Kind: KindTCP}, "no target address"},
		{"bad regex", Spec{Kind: KindHTTP, Target: ap, HTTP: &HTTPSpec{Regex: "("}}, "regex"},
		{"bad digest", Spec{Kind: KindHTTP, Target: ap, HTTP: &HTTPSpec{Digest: "xyz"}}, "not 32 hex digits"},
		{"header injection", Spec{Kind: KindHTTP, Target: ap, HTTP: &HTTPSpec{Host: "a\r\nX-Evil: 1"}}, "line break"},
		{"empty argv", Spec{Kind: KindScript, Script: &ScriptSpec{}}, "empty argv"},
		{"no dns name", Spec{Kind: KindDNS, Target: ap}, "no query name"},
		{"bad dns type", Spec{Kind: KindDNS, Target: ap, DNS: &DNSSpec{Name: "a", Type: "BOGUS"}}, "unknown query type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.spec)
			wantErr(t, err, tc.want)
		})
	}
}

// A check that needs only the status returns at the headers, even when the
// server ignores "Connection: close" and trickles a long body.
func TestHTTPCheckStatusOnlyDoesNotWaitForBody(t *testing.T) {
	noLeaks(t)
	ln := listenTCP(t, "127.0.0.3")
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 4096)
				conn.Read(buf)
				fmt.Fprint(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nx")
				<-done
			}()
		}
	}()
	c := mustNew(t, Spec{Kind: KindHTTP, Target: addrPort(t, ln.Addr()), Timeout: 5 * time.Second})
	start := time.Now()
	wantErr(t, c.Check(t.Context()), "")
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("status-only check took %s: it waited for the body", el)
	}
}

func TestReadStatus(t *testing.T) {
	long := "X-Long: " + strings.Repeat("a", 5000) + "\r\n"
	tests := []struct {
		name, in string
		want     int
		wantErr  string
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n", 200, ""},
		{"no reason", "HTTP/1.0 503\r\n\r\n", 503, ""},
		{"bare LF", "HTTP/1.1 404 Not Found\nA: b\n\n", 404, ""},
		{"long header", "HTTP/1.1 204 No Content\r\n" + long + "\r\n", 204, ""},
		{"long header ending at the buffer", "HTTP/1.1 204 No Content\r\n" + "X: " + strings.Repeat("b", 4096-3-len("HTTP/1.1 204 No Content\r\n")) + "\r\nY: z\r\n\r\n", 204, ""},
		{"headers never end", "HTTP/1.1 200 OK\r\nA: b\r\n", 0, "EOF"},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0, "malformed HTTP status line"},
		{"bad code", "HTTP/1.1 2x0 OK\r\n\r\n", 0, "malformed HTTP status line"},
		{"code too long", "HTTP/1.1 2000 OK\r\n\r\n", 0, "malformed HTTP status line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readStatus(bufio.NewReaderSize(strings.NewReader(tc.in), 4096))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("readStatus = %d, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("readStatus = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}
