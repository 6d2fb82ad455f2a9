package conf

import "testing"

func TestSorryServerInhibit(t *testing.T) {
	src := `
virtual_service "web" {
  address              = "192.0.2.1:80"
  sorry_server_inhibit = true
  real_server "10.0.0.1" {}
  sorry_server "10.0.0.9" {}
}`
	cfg := mustLoad(t, src)
	if s := cfg.Services[0].Sorry; s == nil || !s.InhibitOnFailure {
		t.Fatalf("sorry server %+v, want InhibitOnFailure (sorry_server_inhibit)", s)
	}
	back := mustLoad(t, string(Format(cfg)))
	if s := back.Services[0].Sorry; s == nil || !s.InhibitOnFailure {
		t.Errorf("sorry_server_inhibit lost by Format:\n%s", Format(cfg))
	}
	if mustLoad(t, `virtual_service "web" {
  address = "192.0.2.1:80"
  real_server "10.0.0.1" {}
  sorry_server "10.0.0.9" {}
}`).Services[0].Sorry.InhibitOnFailure {
		t.Error("sorry_server_inhibit on by default")
	}
}
