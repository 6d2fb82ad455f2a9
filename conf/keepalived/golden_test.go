package keepalived

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/conf"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// convertFile parses and converts one keepalived file; the text is the
// HCL, then the diagnostics, as the golden files hold them.
func convertFile(t *testing.T, path, id string) (*Result, string) {
	t.Helper()
	p, diags := Parse(path, Options{ConfigID: id})
	var b bytes.Buffer
	var res *Result
	if p != nil {
		var more Diagnostics
		res, more = Convert(p)
		diags = append(diags, more...)
		b.Write(res.HCL())
	}
	b.WriteString("---- diagnostics\n")
	diags.Write(&b)
	return res, b.String()
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, d)
	}
}

// TestGolden converts every configuration in testdata and compares the HCL
// and the diagnostics with the golden file; havsd must load the HCL.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.conf")
	files = append(files, "testdata/include/keepalived.conf")
	for _, f := range files {
		ids := []string{""}
		if strings.Contains(f, "include") {
			ids = []string{"lb1", "lb2"}
		}
		for _, id := range ids {
			name := strings.TrimSuffix(f, ".conf")
			if id != "" {
				name += "." + id
			}
			t.Run(name, func(t *testing.T) {
				res, got := convertFile(t, f, id)
				golden(t, name+".golden", got)
				if res == nil {
					t.Fatal("not converted")
				}
				cfg, src, diags := conf.LoadBytes(f+".hcl", res.HCL())
				if cfg == nil {
					var b bytes.Buffer
					src.WriteDiagnostics(&b, diags, false)
					t.Fatalf("havsd refuses the converted configuration:\n%s", b.String())
				}
			})
		}
	}
}

// TestBad: unreadable or unparsable input gives located errors, no tree.
func TestBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.conf")
	for _, f := range files {
		name := strings.TrimSuffix(f, ".conf")
		t.Run(name, func(t *testing.T) {
			_, got := convertFile(t, f, "")
			golden(t, name+".golden", got)
			if !strings.Contains(got, ": error: ") && !strings.Contains(got, "not converted") {
				t.Errorf("no diagnostic for %s", f)
			}
		})
	}
}

// TestConfD: -o DIR writes vrrp.hcl and one file per service; together
// they load to the same configuration as the single file.
func TestConfD(t *testing.T) {
	res, _ := convertFile(t, "testdata/nat-pair.conf", "")
	files := res.Files()
	var names []string
	var all []byte
	for _, f := range files {
		names = append(names, f.Name)
		all = append(all, f.Data...)
		all = append(all, '\n')
	}
	want := []string{"vrrp.hcl", "service-tcp-192.0.2.10-80.hcl", "service-tcp-192.0.2.10-443.hcl"}
	if d := cmp.Diff(want, names); d != "" {
		t.Fatalf("files (-want +got):\n%s", d)
	}
	one, _, _ := conf.LoadBytes("one.hcl", res.HCL())
	split, _, diags := conf.LoadBytes("split.hcl", all)
	if one == nil || split == nil {
		t.Fatalf("does not load: %v", diags)
	}
	if d := cmp.Diff(string(conf.Format(one)), string(conf.Format(split))); d != "" {
		t.Errorf("conf.d differs from the single file:\n%s", d)
	}
	if !bytes.Contains(files[1].Data, []byte("# from testdata/nat-pair.conf:47")) {
		t.Errorf("service file without its origin:\n%s", files[1].Data)
	}
}
