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
