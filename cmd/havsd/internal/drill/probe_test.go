package drill

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/havsd/havsd/test/need"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    Target
		wantErr bool
	}{
		{in: "tcp://10.0.0.1:80", want: Target{Scheme: "tcp", Addr: netip.MustParseAddrPort("10.0.0.1:80")}},
		{in: "http://10.0.0.1/", want: Target{Scheme: "http", Addr: netip.MustParseAddrPort("10.0.0.1:80"), URL: "http://10.0.0.1/"}},
		{in: "http://10.0.0.1:8080/health", want: Target{Scheme: "http", Addr: netip.MustParseAddrPort("10.0.0.1:8080"), URL: "http://10.0.0.1:8080/health"}},
		{in: "icmp://10.0.0.1", want: Target{Scheme: "icmp", Addr: netip.MustParseAddrPort("10.0.0.1:0")}},
		{in: "tcp://10.0.0.1", wantErr: true},
		{in: "udp://10.0.0.1:53", wantErr: true},
		{in: "http://example.com/", wantErr: true},
		{in: "icmp://[2001:db8::1]", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTarget(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("ParseTarget(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if err == nil && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

// TestProbersLoopback probes servers on loopback, then a closed port.
func TestProbersLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(srv.Close)
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	closed := closedPort(t)
	tests := []struct {
		target string
		ok     bool
	}{
		{"tcp://" + ap.String(), true},
		{"http://" + ap.String() + "/", true},
		{"http://" + ap.String() + "/fail", false},
		{"tcp://" + closed.String(), false},
		{"http://" + closed.String() + "/", false},
	}
	if os.Geteuid() == 0 {
		tests = append(tests, struct {
			target string
			ok     bool
		}{"icmp://127.0.0.1", true})
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			tg, err := ParseTarget(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			p, err := NewProber(tg, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := p.Probe(ctx); (err == nil) != tt.ok {
				t.Errorf("Probe() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	return ap
}

// TestVantageNamespace opens a socket inside a fresh namespace: its loopback
// is its own, so a server on the host's loopback is out of reach from it.
func TestVantageNamespace(t *testing.T) {
	need.Root(t, "creates a network namespace")
	ns := fmt.Sprintf("hv-lb-dr%d", os.Getpid()%100000)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", ns).Run() })
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	v, err := EnterNS(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	tg, _ := ParseTarget("tcp://" + ln.Addr().String())
	p, _ := NewProber(tg, v)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := p.Probe(ctx); err == nil {
		t.Errorf("a probe from the namespace reached the host's loopback")
	}
	icmpT, _ := ParseTarget("icmp://127.0.0.1")
	ip, err := NewProber(icmpT, v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ip.Close() })
	if err := ip.Probe(ctx); err != nil {
		t.Errorf("echo to the namespace's own loopback: %v", err)
	}
}
