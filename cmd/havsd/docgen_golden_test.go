package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/test/need"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated man pages and completions under dist/")

// TestGeneratedDocs checks that the committed man pages and completions are
// what the generator makes of today's command table, flags and config
// sketch, so they cannot drift; -update rewrites them.
func TestGeneratedDocs(t *testing.T) {
	docs := helpDocs(t)
	pkgDoc, exits := mainDocs(t)
	sketch, err := os.ReadFile("../../doc/config-sketch.hcl")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"../../dist/man/havsd.8":           manPage8(pkgDoc, exits, docs),
		"../../dist/man/havsd.hcl.5":       manPage5(sketch, sketchBlocks(t, sketch)),
		"../../dist/completion/havsd.bash": bashCompletion(docs),
		"../../dist/completion/_havsd":     zshCompletion(docs),
	}
	for path, want := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if *updateDocs {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run: go test ./cmd/havsd -run TestGeneratedDocs -update)", err)
			}
			if diff := cmp.Diff(want, string(got)); diff != "" {
				t.Errorf("%s is stale; run: go test ./cmd/havsd -run TestGeneratedDocs -update\n(-generated +committed):\n%s", path, diff)
			}
		})
	}
}

// TestDocsCoverEverything checks that the pages name every command, every
// flag and every block of the sketch.
func TestDocsCoverEverything(t *testing.T) {
	docs := helpDocs(t)
	pkgDoc, exits := mainDocs(t)
	page8 := manPage8(pkgDoc, exits, docs)
	for _, d := range docs {
		if !strings.Contains(page8, `.SS "havsd `+d.Name+`"`) {
			t.Errorf("havsd(8) lacks command %s", d.Name)
		}
		for _, f := range d.Flags {
			if !strings.Contains(page8, `\-`+roff(f.Name)) {
				t.Errorf("havsd(8) lacks %s -%s", d.Name, f.Name)
			}
		}
	}
	if d := docs[0]; d.Name != "run" || len(d.Flags) < 3 {
		t.Errorf("parsed help of run: %+v, want its -f, -log-format, -log-level", d)
	}
	sketch, err := os.ReadFile("../../doc/config-sketch.hcl")
	if err != nil {
		t.Fatal(err)
	}
	blocks := sketchBlocks(t, sketch)
	page5 := manPage5(sketch, blocks)
	for _, want := range []string{"global", "vrrp_instance", "virtual_service", `virtual_service \(-> real_server`, `virtual_service \(-> check`} {
		if !strings.Contains(page5, ".SS "+want) {
			t.Errorf("havsd.hcl(5) lacks a section for %s", want)
		}
	}
	for _, attr := range []string{"virtual_router_id", "fwmark", "inhibit_on_failure", "snat_source"} {
		if !strings.Contains(page5, ".B "+roff(attr)+"\n") {
			t.Errorf("havsd.hcl(5) lacks attribute %s", attr)
		}
	}
}

// TestManPagesRender runs man over both pages and fails on any groff warning.
func TestManPagesRender(t *testing.T) {
	need.Binaries(t, "man")
	for _, page := range []string{"../../dist/man/havsd.8", "../../dist/man/havsd.hcl.5"} {
		t.Run(filepath.Base(page), func(t *testing.T) {
			cmd := exec.Command("man", "--warnings", "-E", "UTF-8", "-l", page)
			cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("man -l %s: %v\n%s", page, err, stderr.String())
			}
			if !strings.Contains(string(out), "NAME") {
				t.Errorf("rendered page has no NAME section:\n%s", out)
			}
		})
	}
}

// TestBashCompletion sources the generated script and completes a few words.
func TestBashCompletion(t *testing.T) {
	need.Binaries(t, "bash")
	for _, tc := range []struct{ words, want string }{
		{"havsd che", "check"},
		{"havsd run -log-f", "-log-format"},
		{"havsd status -js", "-json"},
		{"havsd status -json ''", "-f -interval -json -s -watch"},
		{"havsd check -f ../../doc/config-sk", "../../doc/config-sketch.hcl"},
	} {
		t.Run(tc.words, func(t *testing.T) {
			script := `source ../../dist/completion/havsd.bash; COMP_WORDS=(` + tc.words + `); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _havsd; echo "${COMPREPLY[*]}"`
			out, err := exec.Command("bash", "--norc", "-c", script).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Errorf("completing %q: %q, want %q", tc.words, got, tc.want)
			}
		})
	}
}
