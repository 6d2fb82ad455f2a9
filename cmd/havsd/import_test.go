package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/havsd/havsd/conf"
)

// writeKeepalived writes a keepalived configuration into a temporary
// directory and returns its path.
func writeKeepalived(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const kaComplete = `global_defs {
    router_id lb1
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        10.0.0.100/24
    }
}
virtual_server 10.0.0.100 80 {
    protocol TCP
    lvs_sched rr
    real_server 10.0.1.1 80 {
        TCP_CHECK {
            connect_timeout 2
        }
    }
}
`

// TestImportKeepalived: exit 0 when everything converts, 3 when something
// is left out (the HCL still written), 1 when the input cannot be parsed.
func TestImportKeepalived(t *testing.T) {
	leftOut := strings.Replace(kaComplete, "priority 100", "priority 100\n    use_vmac", 1)
	for _, tc := range []struct {
		name, src string
		code      int
		stderr    string
		hcl       bool
	}{
		{"complete", kaComplete, exitOK, "", true},
		{"left out", leftOut, exitLeftOut, "keepalived.conf:9: not converted: use_vmac:", true},
		{"unparsable", "vrrp_instance VI_1 {\n", exitFailure, "keepalived.conf:1: error: unbalanced '{'", false},
		{"binary", "\x00\x01\x02", exitFailure, "keepalived.conf:1: error: binary data", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeKeepalived(t, tc.src)
			code, out, errs := runCmd(t, "", (*cli).importRules, "--from", "keepalived", path)
			if code != tc.code || !strings.Contains(errs, tc.stderr) {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errs)
			}
			if !tc.hcl {
				if out != "" {
					t.Errorf("wrote HCL for unparsable input:\n%s", out)
				}
				return
			}
			if cfg, _, diags := conf.LoadBytes("out.hcl", []byte(out)); cfg == nil {
				t.Fatalf("havsd refuses the output: %v\n%s", diags, out)
			}
			if !strings.Contains(out, "# from "+path+":4\nvrrp_instance \"VI_1\"") {
				t.Errorf("no origin comment:\n%s", out)
			}
			// check --from prints the same diagnostics and writes nothing.
			ccode, cout, cerrs := runCmd(t, "", (*cli).check, "--from", "keepalived", path)
			if ccode != tc.code || strings.Replace(cerrs, "havsd check:", "havsd import:", -1) != errs {
				t.Errorf("check: exit %d, stderr\n%s\nimport's:\n%s", ccode, cerrs, errs)
			}
			if strings.Contains(cout, "vrrp_instance") {
				t.Errorf("check wrote HCL:\n%s", cout)
			}
		})
	}
}

// TestImportKeepalivedConfD: -o DIR writes vrrp.hcl and one file per
// service; -o FILE one file; --router-id picks the @id lines.
func TestImportKeepalivedConfD(t *testing.T) {
	src := strings.Replace(kaComplete, "    priority 100\n", "    @lb1 priority 150\n    @lb2 priority 50\n", 1)
	path := writeKeepalived(t, src)
	dir := t.TempDir()
	if code, _, errs := runCmd(t, "", (*cli).importRules, "--from", "keepalived", "-o", dir, "--router-id", "lb2", path); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	var got []string
	for _, n := range names {
		got = append(got, filepath.Base(n))
	}
	if strings.Join(got, " ") != "service-tcp-10.0.0.100-80.hcl vrrp.hcl" {
		t.Errorf("files %v", got)
	}
	cfg, _, diags := conf.Load(dir) // havsd run -f DIR reads a conf.d
	if cfg == nil {
		t.Fatalf("conf.d does not load: %v", diags)
	}
	if cfg.Instances[0].Priority != 50 {
		t.Errorf("priority %d, want 50 for --router-id lb2", cfg.Instances[0].Priority)
	}
	file := filepath.Join(t.TempDir(), "havsd.hcl")
	if code, _, errs := runCmd(t, "", (*cli).importRules, "--from", "keepalived", "-o", file, path); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if cfg, _, _ := conf.Load(file); cfg == nil || cfg.Instances[0].Priority != 150 {
		t.Errorf("-o FILE: %+v (want priority 150: the file's router_id lb1)", cfg)
	}
	if code, _, _ := runCmd(t, "", (*cli).importRules, "--from", "bind9", path); code != exitUsage {
		t.Errorf("--from bind9: exit %d", code)
	}
}
