package need

import (
	"testing"
)

// recorder captures what a need did instead of ending the test.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Helper()              {}
func (r *recorder) Skip(args ...any)     { r.skipped = args[0].(string) }
func (r *recorder) Fatal(args ...any)    { r.fatal = args[0].(string) }
func (r *recorder) Skipf(string, ...any) {}

func TestMissing(t *testing.T) {
	for _, tt := range []struct {
		ci           string
		skip, failed bool
	}{{"", true, false}, {"false", true, false}, {"true", false, true}, {"1", false, true}} {
		t.Setenv("CI", tt.ci)
		r := &recorder{TB: t}
		Missing(r, "needs a unicorn")
		if (r.skipped != "") != tt.skip || (r.fatal != "") != tt.failed {
			t.Errorf("CI=%q: skipped %q, failed %q", tt.ci, r.skipped, r.fatal)
		}
	}
}

func TestBinaries(t *testing.T) {
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	Binaries(r, "sh", "no-such-binary-havsd")
	if r.skipped != "needs the no-such-binary-havsd binary on PATH" {
		t.Errorf("skipped %q", r.skipped)
	}
}
