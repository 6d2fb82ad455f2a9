package conf

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/ipvsadm"
)

const groupSrc = `
virtual_service_group "web" {
  address = ["192.0.2.10:80", "192.0.2.11:8080"]
  fwmark  = [7]
}
virtual_service "web" {
  group     = "web"
  scheduler = "rr"
  check "tcp" {}
  real_server "10.0.0.1:80" {}
  real_server "10.0.0.2:80" {}
}`

// TestServiceGroupExpands: a grouped service is one IPVS service per member
// with the same real servers and identical checks.
func TestServiceGroupExpands(t *testing.T) {
	cfg := mustLoad(t, groupSrc)
	var names []string
	for _, s := range cfg.Services {
		names = append(names, s.Name)
	}
	if diff := cmp.Diff([]string{"web/192.0.2.10:80", "web/192.0.2.11:8080", "web/fwmark-7"}, names); diff != "" {
		t.Fatalf("services (-want +got):\n%s", diff)
	}
	want := "-A -t 192.0.2.10:80 -s rr\n" +
		"-a -t 192.0.2.10:80 -r 10.0.0.1:80 -m -w 1\n" +
		"-a -t 192.0.2.10:80 -r 10.0.0.2:80 -m -w 1\n" +
		"-A -t 192.0.2.11:8080 -s rr\n" +
		"-a -t 192.0.2.11:8080 -r 10.0.0.1:80 -m -w 1\n" +
		"-a -t 192.0.2.11:8080 -r 10.0.0.2:80 -m -w 1\n" +
		"-A -f 7 -s rr\n" +
		"-a -f 7 -r 10.0.0.1:80 -m -w 1\n" +
		"-a -f 7 -r 10.0.0.2:80 -m -w 1\n"
	var svcs []lvs.Service
	for _, s := range cfg.Services {
		svc := s.Service
		for _, r := range s.Reals {
			svc.Destinations = append(svc.Destinations, r.Dest)
		}
		svcs = append(svcs, svc)
	}
	if diff := cmp.Diff(want, ipvsadm.Format(svcs)); diff != "" {
		t.Errorf("IPVS table (-want +got):\n%s", diff)
	}
	// Every member probes 10.0.0.1:80 with the same check: one probe.
	a, b := cfg.Services[0].Reals[0].Checks, cfg.Services[2].Reals[0].Checks
	if len(a) != 1 || !cmp.Equal(a, b, cmpAddrs) {
		t.Errorf("members' checks differ:\n%+v\n%+v", a, b)
	}
}

// TestServiceGroupErrors: each misuse is reported once, at its place.
func TestServiceGroupErrors(t *testing.T) {
	tests := []struct{ name, src, want, at string }{
		{"unknown group", `virtual_service "x" {
  group = "wbe"
  real_server "10.0.0.1" {}
}
virtual_service_group "web" {
  fwmark = [1]
}`, `Unknown virtual_service_group`, `test.hcl:2:11`},
		{"group and address", `virtual_service_group "web" {
  fwmark = [1]
}
virtual_service "x" {
  group   = "web"
  address = "192.0.2.1:80"
}`, `Group and address`, `test.hcl:6:13`},
		{"bad member", `virtual_service_group "web" {
  address = ["192.0.2.1:80", "nope"]
}
virtual_service "x" {
  group = "web"
}`, `Invalid service address`, `test.hcl:2:30`},
		{"duplicate member", `virtual_service_group "web" {
  address = ["192.0.2.1:80", "192.0.2.1:80"]
}
virtual_service "x" {
  group = "web"
}`, `Duplicate virtual service`, `test.hcl:2:30`},
		{"member taken by another service", `virtual_service_group "web" {
  fwmark = [3, 4]
}
virtual_service "x" {
  group = "web"
}
virtual_service "y" {
  fwmark = 4
}`, `Duplicate virtual service`, `test.hcl:8:12`},
		{"empty group", `virtual_service_group "web" {
}
virtual_service "x" {
  group = "web"
}`, `Empty virtual_service_group`, `test.hcl:1:1`},
		{"port 0 without persistence", `virtual_service_group "web" {
  address = ["192.0.2.1:0"]
}
virtual_service "x" {
  group = "web"
}`, `Port 0 without persistence`, `test.hcl:2:14`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s, diags := LoadBytes("test.hcl", []byte(tt.src))
			var b []byte
			s.WriteDiagnostics(&bytesWriter{&b}, diags, false)
			if !diags.HasErrors() || !strings.Contains(string(b), "Error: "+tt.want+"\n\n  on "+tt.at+",") {
				t.Errorf("diagnostics do not hold %q at %s:\n%s", tt.want, tt.at, b)
			}
		})
	}
	// A mistake in the shared settings is one error, not one per member.
	_, _, diags := LoadBytes("test.hcl", []byte(strings.Replace(groupSrc, `scheduler = "rr"`, `scheduler = "nope"`, 1)))
	n := 0
	for _, d := range diags {
		if strings.Contains(d.Summary, "scheduler") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d scheduler diagnostics for 3 members, want 1: %v", n, diags)
	}
	// An unused group is a warning.
	_, _, diags = LoadBytes("test.hcl", []byte(`virtual_service_group "web" { fwmark = [1] }`))
	if len(diags) != 1 || diags[0].Summary != "Unused virtual_service_group" {
		t.Errorf("unused group: %v", diags)
	}
}
