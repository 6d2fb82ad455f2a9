package conf

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Format writes a group's members as the one grouped virtual_service they
// came from, with the virtual_service_group, and loads back to the same
// services; members that differ otherwise come out one by one.
func TestServiceGroupFormat(t *testing.T) {
	src := `
virtual_service_group "web" {
  address = ["192.0.2.10:80", "192.0.2.11:8080"]
  fwmark  = [7]
}
virtual_service_group "spare" {
  fwmark = [9]
}
virtual_service "web" {
  group     = "web"
  scheduler = "rr"
  check "tcp" {
    port = 80
  }
  real_server "10.0.0.1" {}
  real_server "10.0.0.4" {
    check "ping" {}
  }
  real_server "10.0.0.2:80" {
    check "http" {
      port = 8081
    }
  }
  real_server "10.0.0.3:80" {}
}
virtual_service "plain" {
  address = "192.0.2.20:53"
  protocol = "udp"
  real_server "10.0.0.9:53" {}
}`
	load := func(src string) *Config {
		t.Helper()
		cfg, _, diags := LoadBytes("test.hcl", []byte(src))
		if cfg == nil {
			t.Fatalf("LoadBytes: %v\n%s", diags, src)
		}
		return cfg
	}
	cfg := load(src)
	out := string(Format(cfg))
	for _, w := range []string{`virtual_service_group "web" {`, `address = ["192.0.2.10:80", "192.0.2.11:8080"]`, `fwmark  = [7]`,
		`virtual_service "web" {`, `group     = "web"`, `real_server "10.0.0.1" {`, `real_server "10.0.0.2:80" {`,
		`port = 8081`, `virtual_service_group "spare" {`, `virtual_service "plain" {`} {
		if !strings.Contains(out, w) {
			t.Errorf("Format lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, `"web/`) || strings.Contains(out, "fwmark    = 1") {
		t.Errorf("members written one by one:\n%s", out)
	}
	back := load(out)
	if d := cmp.Diff(cfg.Services, back.Services, cmpAddrs); d != "" {
		t.Errorf("after Format and Load (-want +got):\n%s\n%s", d, out)
	}
	if d := cmp.Diff(cfg.ServiceGroups, back.ServiceGroups); d != "" {
		t.Errorf("groups after Format (-want +got):\n%s", d)
	}
	// A member that differs from the others is written on its own.
	cfg.Services[1].Service.Scheduler = "wlc"
	out = string(Format(cfg))
	if !strings.Contains(out, `virtual_service "web/192.0.2.11:8080" {`) {
		t.Errorf("a member differing from the group was not written on its own:\n%s", out)
	}
	if back := load(out); back.Services[1].Service.Scheduler != "wlc" {
		t.Errorf("scheduler lost:\n%s", out)
	}
}
