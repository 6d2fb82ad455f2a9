package conf

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"net/netip"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	confdGlobal = "global {\n  router_id = \"lb1\"\n}\n"
	confdVI1    = "vrrp_instance \"VI_1\" {\n  interface = \"eth0\"\n  virtual_router_id = 51\n  virtual_ipaddress = [\"192.0.2.1\"]\n}\n"
	confdWeb    = "virtual_service \"web\" {\n  address = \"192.0.2.1:80\"\n  instance = \"VI_1\"\n  real_server \"10.0.0.1\" {}\n}\n"
	confdDNS    = "virtual_service \"dns\" {\n  protocol = \"udp\"\n  address = \"192.0.2.1:53\"\n  real_server \"10.0.0.2\" {}\n}\n"
)

// A directory loads as the concatenation of its *.hcl files in name order;
// other files are ignored.
func TestLoadDirectory(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"10-global.hcl":       confdGlobal,
		"20-vrrp.hcl":         confdVI1,
		"30-web.hcl":          confdWeb,
		"40-dns.hcl":          confdDNS,
		"50-old.hcl.disabled": "this is not HCL {",
		"README":              "not a config",
		".hidden.hcl":         "nor this {",
	})
	cfg, _, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatalf("Load(%s): %v", dir, diags)
	}
	want := mustLoad(t, confdGlobal+confdVI1+confdWeb+confdDNS)
	if diff := cmp.Diff(want, cfg, cmpAddrs, cmpopts.EquateComparable(netip.Prefix{}, netip.AddrPort{})); diff != "" {
		t.Errorf("directory != concatenated file (-want +got):\n%s", diff)
	}
	if cfg.Services[0].Name != "web" || cfg.Services[1].Name != "dns" {
		t.Errorf("services not in file-name order: %s, %s", cfg.Services[0].Name, cfg.Services[1].Name)
	}
}

func TestLoadDirectoryDiagnosticsNameTheFile(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string // in the rendered diagnostics
	}{
		{"duplicate VRID across files", map[string]string{
			"a.hcl": confdVI1,
			"b.hcl": strings.Replace(confdVI1, "VI_1", "VI_2", 1),
		}, []string{"Duplicate VRID", "b.hcl:3:", "already uses VRID 51 on eth0 (ipv4) at " + "%DIR%/a.hcl:3:"}},
		{"error in the second file", map[string]string{
			"a.hcl": confdVI1,
			"b.hcl": strings.Replace(confdWeb, "10.0.0.1", "10.0.0.x", 1),
		}, []string{"on %DIR%/b.hcl:4:"}},
		{"syntax error", map[string]string{
			"a.hcl": confdVI1,
			"b.hcl": "virtual_service {",
		}, []string{"%DIR%/b.hcl:1:"}},
		{"duplicate global", map[string]string{
			"a.hcl": confdGlobal,
			"b.hcl": confdGlobal,
		}, []string{"Duplicate global block", "%DIR%/b.hcl:1:"}},
		{"empty directory", map[string]string{"README": "x"}, []string{"No configuration files", "holds no *.hcl file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeFiles(t, c.files)
			_, src, diags := Load(dir)
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			var b bytes.Buffer
			src.WriteDiagnostics(&b, diags, false)
			for _, w := range c.want {
				if w = strings.ReplaceAll(w, "%DIR%", dir); !strings.Contains(b.String(), w) {
					t.Errorf("diagnostics lack %q:\n%s", w, b.String())
				}
			}
		})
	}
}
