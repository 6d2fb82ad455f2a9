package vrrp

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoWallClock: every time the package reads or waits on comes from
// its clock.Clock (clock.Real is the runtime's monotonic clock), so a
// wall-clock jump (NTP step, `date -s`) is never taken for time passing or
// running backwards: deadlines are compared by monotonic readings only.
// This checks the source: a direct call to the time package's clock, or
// stripping a monotonic reading, fails it.
func TestNoWallClock(t *testing.T) {
	banned := map[string]bool{"Now": true, "Since": true, "Until": true, "After": true, "AfterFunc": true,
		"NewTimer": true, "NewTicker": true, "Tick": true, "Sleep": true}
	files, _ := filepath.Glob("*.go")
	sub, _ := filepath.Glob("vip/*.go")
	fset := token.NewFileSet()
	checked := 0
	for _, name := range append(files, sub...) {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "time" && banned[sel.Sel.Name] {
				t.Errorf("%s: time.%s: use the instance's clock.Clock", fset.Position(call.Pos()), sel.Sel.Name)
			}
			// t.Round(0), t.UTC(), t.In(...) and t.Truncate drop the monotonic reading.
			if sel.Sel.Name == "Round" && len(call.Args) == 1 {
				if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Value == "0" {
					t.Errorf("%s: Round(0) strips the monotonic reading", fset.Position(call.Pos()))
				}
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("checked only %d files", checked)
	}
}
