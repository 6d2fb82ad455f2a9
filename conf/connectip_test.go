package conf

import (
	"net/netip"
	"strings"
	"testing"
)

// TestConnectIP: connect_ip checks another address than the real
// server's (keepalived's connect_ip), survives Format, and its family is
// checked against source.
func TestConnectIP(t *testing.T) {
	cfg := mustLoad(t, `
virtual_service "web" {
  address = "192.0.2.1:80"
  real_server "10.0.0.1:80" {
    check "http" {
      connect_ip = "10.0.1.1"
      port       = 8080
    }
    check "tcp" {}
  }
}`)
	for _, c := range []*Config{cfg, mustLoad(t, string(Format(cfg)))} {
		cs := c.Services[0].Reals[0].Checks
		if cs[0].Target != netip.MustParseAddrPort("10.0.1.1:8080") || cs[1].Target != netip.MustParseAddrPort("10.0.0.1:80") {
			t.Errorf("targets %s, %s; want 10.0.1.1:8080, 10.0.0.1:80", cs[0].Target, cs[1].Target)
		}
	}
	_, s, diags := LoadBytes("test.hcl", []byte(`
virtual_service "web" {
  address = "192.0.2.1:80"
  real_server "10.0.0.1:80" {
    check "tcp" {
      connect_ip = "2001:db8::1"
      source     = "10.0.0.9"
    }
  }
}`))
	var b []byte
	s.WriteDiagnostics(&bytesWriter{&b}, diags, false)
	if !strings.Contains(string(b), "Error: Address family mismatch\n\n  on test.hcl:7:20,") {
		t.Errorf("no family error at source:\n%s", b)
	}
}
