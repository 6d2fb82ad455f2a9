package keepalived

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FuzzParse feeds arbitrary text to Parse and Convert (with an included
// file that includes it back): no panic, a failed parse says why, and the
// HCL written is always syntactically valid. The seeds are the test
// configurations; testdata/fuzz/FuzzParse holds what fuzzing found.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.conf")
	more, _ := filepath.Glob("testdata/*/*.conf")
	for _, s := range append(seeds, more...) {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, src string) {
		files := map[string]string{"k.conf": src, "a.conf": "include k.conf\nvrrp_instance A {\n}\n"}
		for _, id := range []string{"", "lb1"} {
			p, diags := Parse("k.conf", Options{ConfigID: id, ReadFile: memFS(files).ReadFile, Glob: memFS(files).Glob})
			for _, d := range diags {
				_ = d.String()
			}
			if p == nil {
				if !diags.HasErrors() {
					t.Fatal("no tree and no error")
				}
				continue
			}
			res, cd := Convert(p)
			if cd.HasErrors() {
				continue
			}
			out := res.HCL()
			if _, hd := hclsyntax.ParseConfig(out, "out.hcl", hcl.InitialPos); hd.HasErrors() {
				t.Fatalf("invalid HCL written: %v\n%s", hd, out)
			}
			for _, f := range res.Files() {
				if _, hd := hclsyntax.ParseConfig(f.Data, f.Name, hcl.InitialPos); hd.HasErrors() {
					t.Fatalf("invalid HCL in %s: %v", f.Name, hd)
				}
			}
		}
	})
}
