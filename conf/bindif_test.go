package conf

import (
	"strings"
	"testing"
)

// TestBindIf: bind_if reaches the check spec and survives Format; a name
// that cannot be an interface is refused at the attribute; ping and
// script checks do not take it.
func TestBindIf(t *testing.T) {
	cfg := mustLoad(t, `
virtual_service "web" {
  address = "192.0.2.1:80"
  real_server "10.0.0.1:80" {
    check "tcp" { bind_if = "eth1" }
  }
}`)
	for _, c := range []*Config{cfg, mustLoad(t, string(Format(cfg)))} {
		if got := c.Services[0].Reals[0].Checks[0].BindIf; got != "eth1" {
			t.Errorf("BindIf = %q, want eth1", got)
		}
	}
	for _, tt := range []struct{ check, want string }{
		{`check "tcp" { bind_if = "an-interface-name-too-long" }`, "Invalid bind_if"},
		{`check "ping" { bind_if = "eth1" }`, "not valid for a ping check"},
	} {
		_, s, diags := LoadBytes("test.hcl", []byte("virtual_service \"web\" {\n  address = \"192.0.2.1:80\"\n  real_server \"10.0.0.1:80\" {\n    "+tt.check+"\n  }\n}\n"))
		var b []byte
		s.WriteDiagnostics(&bytesWriter{&b}, diags, false)
		if !diags.HasErrors() || !strings.Contains(string(b), tt.want) || !strings.Contains(string(b), "on test.hcl:4:") {
			t.Errorf("%s: diagnostics do not hold %q on line 4:\n%s", tt.check, tt.want, b)
		}
	}
}
