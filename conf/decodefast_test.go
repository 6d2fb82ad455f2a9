package conf

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestReadSyntaxSameAsContent loads every test, example and fuzz seed
// configuration twice, reading the syntax trees directly (openSyntax) and
// through hcl's Content alone: the configurations and the rendered
// diagnostics must be the same.
func TestReadSyntaxSameAsContent(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"testdata/good/*.hcl", "testdata/bad/*.hcl", "../examples/*.hcl", "../doc/*.hcl", "testdata/fuzz/FuzzLoad/*"} {
		m, _ := filepath.Glob(pattern)
		paths = append(paths, m...)
	}
	if len(paths) < 20 {
		t.Fatalf("only %d configurations found", len(paths))
	}
	load := func(src []byte, direct bool) (*Config, string) {
		readSyntax = direct
		defer func() { readSyntax = true }()
		cfg, s, diags := LoadBytes("x.hcl", src)
		var b strings.Builder
		s.WriteDiagnostics(&b, diags, false)
		return cfg, b.String()
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(p, "testdata/fuzz") {
			src = fuzzSeed(t, src)
		}
		c1, d1 := load(src, true)
		c2, d2 := load(src, false)
		if d1 != d2 {
			t.Errorf("%s: diagnostics differ:\n%s", p, cmp.Diff(d2, d1))
		}
		if diff := cmp.Diff(c2, c1, cmpAddrs, cmpopts.EquateEmpty(),
			cmpopts.EquateComparable(netip.Prefix{}, netip.AddrPort{})); diff != "" {
			t.Errorf("%s: configurations differ:\n%s", p, diff)
		}
	}
	// The scale table, in pieces.
	src := scaleHCL(600)
	c1, d1 := load(src, true)
	c2, d2 := load(src, false)
	if d1 != d2 || !cmp.Equal(c1, c2, cmpAddrs, cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Prefix{}, netip.AddrPort{})) {
		t.Errorf("the scale table loads differently")
	}
}

// fuzzSeed reads a file of the fuzz corpus: "go test fuzz v1" and one
// []byte("...") line.
func fuzzSeed(t *testing.T, file []byte) []byte {
	t.Helper()
	_, rest, ok := strings.Cut(string(file), "\n")
	rest = strings.TrimSpace(rest)
	if !ok || !strings.HasPrefix(rest, "[]byte(") || !strings.HasSuffix(rest, ")") {
		t.Fatalf("not a []byte fuzz seed: %q", file)
	}
	s, err := strconv.Unquote(rest[len("[]byte(") : len(rest)-1])
	if err != nil {
		t.Fatalf("fuzz seed %q: %v", rest, err)
	}
	return []byte(s)
}
