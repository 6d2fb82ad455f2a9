package conf

import (
	"strings"
	"testing"

	"github.com/havsd/havsd/lvs"
)

const opsTunSrc = `
virtual_service "dns" {
  protocol  = "udp"
  address   = "192.0.2.1:53"
  ops       = true
  forward   = "tun"
  tun_type  = "gue"
  tun_port  = 6080
  tun_flags = "remcsum"
  real_server "10.0.0.1" {}
  real_server "10.0.0.2" {
    tun_type  = "gre"
    tun_flags = "csum"
  }
  real_server "10.0.0.3" { forward = "nat" }
  real_server "10.0.0.4" { tun_type = "ipip" }
}`

// TestOpsAndTunCompile: ops and the tunnel settings reach the IPVS model,
// a real server inherits the service's tunnel and may override it, and
// Format writes them back so that a reload of the export is the same.
func TestOpsAndTunCompile(t *testing.T) {
	check := func(t *testing.T, cfg *Config) {
		t.Helper()
		s := cfg.Services[0]
		if !s.Service.OnePacket {
			t.Error("ops not compiled")
		}
		want := []lvs.Destination{
			{TunType: lvs.TunGUE, TunPort: 6080, TunFlags: lvs.TunRemCsum},
			{TunType: lvs.TunGRE, TunFlags: lvs.TunCsum},
			{}, // nat: no tunnel
			{}, // ipip
		}
		for i, w := range want {
			d := s.Reals[i].Dest
			if d.TunType != w.TunType || d.TunPort != w.TunPort || d.TunFlags != w.TunFlags {
				t.Errorf("real %s: tun %s port %d flags %d, want %s %d %d", d.Addr, d.TunType, d.TunPort, d.TunFlags, w.TunType, w.TunPort, w.TunFlags)
			}
		}
	}
	cfg := mustLoad(t, opsTunSrc)
	check(t, cfg)
	out := string(Format(cfg))
	t.Run("format", func(t *testing.T) { check(t, mustLoad(t, out)) })

	old := mustLoad(t, strings.Replace(opsTunSrc, "ops       = true", "", 1))
	if d := Diff(old, cfg); len(d.ChangedServices) != 1 || !strings.Contains(strings.Join(d.ChangedServices[0].Attrs, ","), "ops") {
		t.Errorf("Diff does not name ops: %+v", d.ChangedServices)
	}
}

// TestOpsOnFWMark: a firewall-mark service may schedule its UDP packets
// one by one (the kernel looks at each packet's protocol).
func TestOpsOnFWMark(t *testing.T) {
	cfg := mustLoad(t, `
virtual_service "m" {
  fwmark = 7
  ops    = true
  real_server "10.0.0.1" {}
}`)
	if !cfg.Services[0].Service.OnePacket {
		t.Error("ops on a fwmark service not compiled")
	}
}

// TestOpsAndTunErrors: each misuse is an error at the attribute.
func TestOpsAndTunErrors(t *testing.T) {
	tests := []struct {
		name, svc, real, want, at string
	}{
		{"ops on tcp", `ops = true`, ``, `ops without UDP`, `test.hcl:4:9`},
		{"tun_type without tun", `tun_type = "gre"`, ``, `tun_type without tun`, `test.hcl:4:14`},
		{"bad tun_type", `forward = "tun"
  tun_type = "vxlan"`, ``, `Invalid value for tun_type`, `test.hcl:5:14`},
		{"gue without port", `forward = "tun"
  tun_type = "gue"`, ``, `Invalid tun_port`, `test.hcl:5:14`},
		{"port with gre", `forward = "tun"
  tun_type = "gre"
  tun_port = 6080`, ``, `tun_port without GUE`, `test.hcl:6:14`},
		{"remcsum with gre", `forward = "tun"
  tun_type = "gre"
  tun_flags = "remcsum"`, ``, `remcsum with GRE`, `test.hcl:6:15`},
		{"flags with ipip", `forward = "tun"`, `tun_flags = "csum"`, `tun_flags with ipip`, `test.hcl:6:17`},
		{"inherited remcsum with gre", `forward = "tun"
  tun_type = "gue"
  tun_port = 6080
  tun_flags = "remcsum"`, `tun_type = "gre"`, `remcsum with GRE`, `test.hcl:9:16`},
		{"real tun on nat", ``, `tun_type = "gue"`, `tun_type without tun`, `test.hcl:6:16`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "\nvirtual_service \"x\" {\n  address = \"192.0.2.1:80\"\n  " + tt.svc +
				"\n  real_server \"10.0.0.1\" {\n    " + tt.real + "\n  }\n}\n"
			_, s, diags := LoadBytes("test.hcl", []byte(src))
			var b []byte
			s.WriteDiagnostics(&bytesWriter{&b}, diags, false)
			if !diags.HasErrors() || !strings.Contains(string(b), "Error: "+tt.want+"\n\n  on "+tt.at+",") {
				t.Errorf("diagnostics do not hold %q at %s:\n%s", tt.want, tt.at, b)
			}
		})
	}
}
