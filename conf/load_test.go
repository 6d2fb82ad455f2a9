package conf

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata/bad")

// TestBadConfigs loads every testdata/bad/*.hcl and compares the rendered
// diagnostics with its .golden file (go test ./conf -run TestBadConfigs -update
// rewrites them). Each file holds several errors: all must be reported.
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg, src, diags := Load(path)
			if cfg != nil || !diags.HasErrors() {
				t.Fatalf("Load(%s) accepted a bad config", path)
			}
			if n := len(diags.Errs()); n < 2 && !strings.HasSuffix(path, "parse.hcl") {
				t.Errorf("Load(%s) reported %d errors, want several", path, n)
			}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic %q has no source range", d.Summary)
				}
			}
			var buf bytes.Buffer
			if err := src.WriteDiagnostics(&buf, diags, false); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(path, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("diagnostics of %s differ from %s:\n%s", path, golden, got)
			}
		})
	}
}

// TestGoodConfigs loads every testdata/good/*.hcl without errors or warnings.
func TestGoodConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.hcl")
	more, _ := filepath.Glob("../examples/*.hcl")
	more = append(more, "../doc/config-sketch.hcl")
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no good configs")
	}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			cfg, src, diags := Load(path)
			if len(diags) > 0 || cfg == nil {
				var buf bytes.Buffer
				src.WriteDiagnostics(&buf, diags, false)
				t.Fatalf("Load(%s):\n%s", path, buf.String())
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	cfg, src, diags := Load("testdata/does-not-exist.hcl")
	if cfg != nil || !diags.HasErrors() {
		t.Fatal("Load of a missing file succeeded")
	}
	var buf bytes.Buffer
	if err := src.WriteDiagnostics(&buf, diags, false); err != nil || !strings.Contains(buf.String(), "Cannot read configuration") {
		t.Errorf("WriteDiagnostics = %q, %v", buf.String(), err)
	}
}

func TestPriority255Warns(t *testing.T) {
	src := `vrrp_instance "VI_1" {
  interface = "eth0"
  virtual_router_id = 1
  priority = 255
  virtual_ipaddress = ["10.0.0.1"]
}`
	cfg, _, diags := LoadBytes("owner.hcl", []byte(src))
	if cfg == nil || diags.HasErrors() || len(diags) != 1 || diags[0].Severity != hcl.DiagWarning {
		t.Fatalf("LoadBytes = %v, %v; want a config and one warning", cfg, diags)
	}
	if cfg.Instances[0].Priority != 255 {
		t.Errorf("priority = %d", cfg.Instances[0].Priority)
	}
}
