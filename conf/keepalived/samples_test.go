package keepalived

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/havsd/havsd/conf"
)

// TestSamples converts every keepalived.conf.* in the directory named by
// KEEPALIVED_SAMPLES (keepalived's doc/samples, from a keepalived source
// tree: they are not copied here) and requires that havsd loads each
// result. It prints what each left out.
func TestSamples(t *testing.T) {
	dir := os.Getenv("KEEPALIVED_SAMPLES")
	if dir == "" {
		t.Skip("KEEPALIVED_SAMPLES is not set (a keepalived doc/samples directory)")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "keepalived.conf.*"))
	if len(files) == 0 {
		t.Fatalf("no keepalived.conf.* in %s", dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, diags := Parse(f, Options{})
			if p == nil {
				t.Fatalf("parse: %v", diags)
			}
			res, more := Convert(p)
			diags = append(diags, more...)
			left := 0
			for _, d := range diags {
				if d.Severity == NotConverted {
					left++
				}
			}
			cfg, src, ld := conf.LoadBytes(f+".hcl", res.HCL())
			if cfg == nil && onlyMissingPrograms(ld) {
				// The samples' scripts are not on this machine: havsd
				// refuses what it cannot run, which is not the converter's.
				t.Logf("scripts of the sample are missing here: %v", ld.Errs())
				return
			}
			if cfg == nil {
				var b bytes.Buffer
				src.WriteDiagnostics(&b, ld, false)
				t.Fatalf("havsd refuses the conversion:\n%s\n%s", res.HCL(), b.String())
			}
			t.Logf("%d instance(s), %d service(s), %d setting(s) not converted", len(cfg.Instances), len(cfg.Services), left)
			if testing.Verbose() {
				var b bytes.Buffer
				diags.Write(&b)
				t.Log("\n" + b.String())
			}
		})
	}
}

// onlyMissingPrograms reports whether every error is a script or program
// that is not installed here.
func onlyMissingPrograms(ds hcl.Diagnostics) bool {
	for _, d := range ds {
		if d.Severity == hcl.DiagError && !strings.HasSuffix(d.Summary, "not found") {
			return false
		}
	}
	return true
}
