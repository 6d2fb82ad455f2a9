package conf

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestFormatRoundTrip checks Load(Format(cfg)) == cfg for every good config.
func TestFormatRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.hcl")
	more, _ := filepath.Glob("../examples/*.hcl")
	more = append(more, "../doc/config-sketch.hcl")
	for _, path := range append(files, more...) {
		t.Run(path, func(t *testing.T) {
			cfg, _, diags := Load(path)
			if diags.HasErrors() {
				t.Fatalf("Load: %v", diags)
			}
			text := Format(cfg)
			back := mustLoad(t, string(text))
			if diff := cmp.Diff(cfg, back, cmpAddrs, cmpopts.EquateComparable(netip.Prefix{}, netip.AddrPort{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Load(Format(cfg)) != cfg (-want +got):\n%s\nformatted:\n%s", diff, text)
			}
		})
	}
}

// TestFormatEscapes checks that template sequences and odd characters in
// strings and labels survive Format.
func TestFormatEscapes(t *testing.T) {
	src := `
vrrp_instance "a\"b$${c}" {
  interface = "eth0\t"
  virtual_router_id = 1
  virtual_ipaddress = ["10.0.0.1"]
  vip {
    address = "10.0.0.2/24"
    dev     = "eth1"
  }
  vip {
    address = "10.0.0.3/24"
  }
  notify {
    master = ["/bin/echo", "$${HOME}", "%%{x}", "\u2603\n"]
  }
}
virtual_service "s" {
  address = "10.0.0.1:80"
  check "http" {
    host  = "$${x}%%{y}"
    regex = "^a\\d+$"
  }
  real_server "10.0.0.2" {}
}`
	cfg := mustLoad(t, src)
	if got := cfg.Instances[0].Notify.Master[1]; got != "${HOME}" {
		t.Fatalf("decoded %q", got)
	}
	back := mustLoad(t, string(Format(cfg)))
	if diff := cmp.Diff(cfg, back, cmpAddrs, cmpopts.EquateComparable(netip.Prefix{}, netip.AddrPort{}), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s\n%s", diff, Format(cfg))
	}
}
