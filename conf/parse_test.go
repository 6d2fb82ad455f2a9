package conf

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestParsePiecesSameAsWhole parses files cut into small pieces and whole:
// the bodies (every range included) must be the same.
func TestParsePiecesSameAsWhole(t *testing.T) {
	files := map[string][]byte{
		"scale": scaleHCL(50),
		"comments": []byte("# a { comment\nglobal {\n  router_id = \"a}b\\\"{\"\n}\n/* block\n { comment */\n" +
			"virtual_service \"x\" { // {\n  address = \"10.0.0.1:80\"\n  real_server \"10.0.0.2:80\" {}\n}\nx = [1, {a = 2}]\n"),
	}
	for _, dir := range []string{"../dist", "testdata/bad"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[p] = src
		}
	}
	if len(files) < 5 {
		t.Fatalf("only %d files to compare", len(files))
	}
	split := 0
	for name, src := range files {
		t.Run(name, func(t *testing.T) {
			whole, wdiags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
			cuts := splitTopLevel(src, 16)
			if cuts == nil {
				t.Skip("the cutter leaves this file whole")
			}
			got, _, ok := parsePieces(src, name, cuts, false)
			if !ok {
				if !wdiags.HasErrors() {
					t.Fatalf("pieces failed where the whole file parses")
				}
				return
			}
			split++
			if wdiags.HasErrors() {
				t.Fatalf("pieces parsed a file the whole parser rejects: %v", wdiags)
			}
			if !reflect.DeepEqual(got.Body, whole.Body) {
				t.Errorf("pieces and whole differ (%d pieces)", len(cuts))
			}
		})
	}
	if split < 3 {
		t.Errorf("only %d files were parsed in pieces", split)
	}
}

// TestSplitTopLevel cuts only outside blocks, strings and comments, and
// refuses what it does not model.
func TestSplitTopLevel(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []cut
	}{
		{"blocks", "a {\n}\nb {\n}\n", []cut{{0, 1}, {6, 3}}},
		{"inside a block", "a {\nx = 1\n}\n", []cut{{0, 1}}},
		{"brace in string", "a = \"{\"\nb = 1\n", []cut{{0, 1}, {8, 2}}},
		{"brace in comment", "# {\na = 1\n", []cut{{0, 1}, {4, 2}}},
		{"block comment", "/* {\n */\na = 1\n", []cut{{0, 1}, {9, 3}}},
		{"heredoc", "a = <<EOF\n}\nEOF\nb = 1\n", nil},
		{"template", "a = \"${x}\"\nb = 1\n", nil},
		{"unbalanced", "}\na = 1\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitTopLevel([]byte(tt.src), 1); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitTopLevel(%q) = %v, want %v", tt.src, got, tt.want)
			}
		})
	}
}

// TestOutlineSameAsParser names the same block for every offset as the
// parser's own navigator.
func TestOutlineSameAsParser(t *testing.T) {
	src := []byte("global {\n  router_id = \"a\"\n}\n\nvirtual_service \"web\" {\n  real_server \"10.0.0.1:80\" {}\n}\ntrack_file \"f\" \"g\" {\n}\n")
	f, diags := hclsyntax.ParseConfig(src, "x.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	type navigator interface {
		ContextString(int) string
		ContextDefRange(int) hcl.Range
	}
	want, got := f.Nav.(navigator), outlineOf(f.Body)
	named := 0
	for off := range len(src) + 1 {
		if w, g := want.ContextString(off), got.ContextString(off); w != g {
			t.Errorf("offset %d: ContextString %q, want %q", off, g, w)
		} else if w != "" {
			named++
		}
		if w, g := want.ContextDefRange(off), got.ContextDefRange(off); w != g {
			t.Errorf("offset %d: ContextDefRange %v, want %v", off, g, w)
		}
	}
	if named == 0 {
		t.Error("no offset was inside a block")
	}
}

// TestLoadInPiecesSameAsWhole loads a large file (parsed in pieces, its
// services decoded per piece) and the same file parsed whole: the same
// Config, and the same diagnostics with the same ranges and context, for a
// good table and for one with bad services in it.
func TestLoadInPiecesSameAsWhole(t *testing.T) {
	var bad []byte
	for _, f := range []string{"testdata/bad/services.hcl", "testdata/bad/checks.hcl"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bad = append(bad, b...)
	}
	big := scaleHCL(800)
	mid := len(big)/2 + bytes.Index(big[len(big)/2:], []byte("\nvirtual_service")) + 1
	tests := []struct {
		name string
		src  []byte
	}{
		{"good", big},
		{"bad services among good", append(append(append([]byte{}, big[:mid]...), bad...), big[mid:]...)},
	}
	// A cut lands only at a line start between top-level blocks.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(splitTopLevel(tt.src, pieceSize(len(tt.src)))) < 2 {
				t.Fatal("the file is not parsed in pieces")
			}
			cfg, src, diags := LoadBytes("big.hcl", tt.src)
			f, wdiags := hclsyntax.ParseConfig(tt.src, "big.hcl", hcl.InitialPos)
			wcfg, wsrc, wdiags := finish(&Source{files: map[string]*hcl.File{"big.hcl": f}}, f.Body, wdiags)
			if !reflect.DeepEqual(cfg, wcfg) {
				t.Error("configs differ")
			}
			if got, want := renderDiags(src, diags), renderDiags(wsrc, wdiags); got != want {
				t.Errorf("diagnostics differ:\n--- pieces\n%s\n--- whole\n%s", got, want)
			}
			if tt.name != "good" && !diags.HasErrors() {
				t.Error("no errors from the bad services")
			}
		})
	}
}

func renderDiags(s *Source, diags hcl.Diagnostics) string {
	var b bytes.Buffer
	for _, d := range diags {
		s.writeDiagnostic(&b, d, false)
	}
	return b.String()
}
