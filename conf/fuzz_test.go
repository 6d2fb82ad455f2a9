package conf

import (
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/ipvsadm"
)

// FuzzLoad feeds arbitrary bytes to LoadBytes: it must never panic, its
// diagnostics must render, and a config that loads must survive Format and
// the ipvsadm export. The seed corpus is every config in testdata and
// examples plus testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"testdata/good/*.hcl", "testdata/bad/*.hcl", "../examples/*.hcl", "../doc/*.hcl"} {
		m, _ := filepath.Glob(pattern)
		seeds = append(seeds, m...)
	}
	for _, path := range seeds {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, s, diags := LoadBytes("fuzz.hcl", src)
		if err := s.WriteDiagnostics(io.Discard, diags, true); err != nil {
			t.Fatal(err)
		}
		if cfg == nil {
			if !diags.HasErrors() {
				t.Fatal("no config and no error")
			}
			return
		}
		if diags.HasErrors() {
			t.Fatal("a config with errors")
		}
		text := Format(cfg)
		back, _, diags := LoadBytes("formatted.hcl", text)
		if back == nil {
			var b strings.Builder
			s.WriteDiagnostics(&b, diags, false)
			t.Fatalf("Format(cfg) does not load:\n%s\n%s", b.String(), text)
		}
		if diff := cmp.Diff(cfg, back, cmpAddrs, cmpopts.EquateEmpty(),
			cmpopts.EquateComparable(netip.Prefix{}, netip.AddrPort{})); diff != "" {
			t.Fatalf("Load(Format(cfg)) != cfg:\n%s\n%s", diff, text)
		}
		// The table as written (every real server, sorry servers out).
		svcs := make([]lvs.Service, len(cfg.Services))
		for i, vs := range cfg.Services {
			svcs[i] = vs.Service
			for _, r := range vs.Reals {
				svcs[i].Destinations = append(svcs[i].Destinations, r.Dest)
			}
		}
		rules := ipvsadm.Format(svcs)
		svcs, err := ipvsadm.Parse(strings.NewReader(rules))
		if err != nil {
			t.Fatalf("exported rules do not parse: %v\n%s", err, rules)
		}
		if again := ipvsadm.Format(svcs); again != rules {
			t.Fatalf("export not stable:\n%s", cmp.Diff(rules, again))
		}
	})
}
