package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeBlock is one fenced block of README.md: its info string, text and
// the prose line before it.
type readmeBlock struct {
	info, text, before string
}

func readREADME(t *testing.T) (string, []readmeBlock) {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var cur *readmeBlock
	var body strings.Builder
	prev := ""
	for line := range strings.Lines(string(raw)) {
		trim := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trim, "```"):
			cur = &readmeBlock{info: strings.TrimPrefix(trim, "```"), before: prev}
			body.Reset()
		case cur != nil && trim == "```":
			cur.text = body.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line)
		case trim != "":
			prev = trim
		}
	}
	return string(raw), blocks
}

// TestREADMEExamples runs what README.md shows so that it cannot go stale:
// the configuration tour loads without a warning and exports the rules
// printed after it, and every havsd command line in it names a command
// and flags that exist.
func TestREADMEExamples(t *testing.T) {
	readme, blocks := readREADME(t)
	var cfg string
	for i, b := range blocks {
		if b.info != "hcl" {
			continue
		}
		cfg = filepath.Join(t.TempDir(), "readme.hcl")
		if err := os.WriteFile(cfg, []byte(b.text), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCmd(t, "", (*cli).check, cfg)
		if code != exitOK || errs != "" {
			t.Errorf("havsd check of the README's configuration: exit %d\n%s", code, errs)
		}
		if i+1 < len(blocks) && strings.Contains(blocks[i+1].before, "havsd export") {
			code, out, errs := runCmd(t, "", (*cli).export, "-f", cfg)
			if code != exitOK || out != blocks[i+1].text {
				t.Errorf("havsd export of the README's configuration: exit %d\n%s\ngot:\n%s\nthe README shows:\n%s", code, errs, out, blocks[i+1].text)
			}
		}
	}
	if cfg == "" {
		t.Error("README.md shows no hcl configuration")
	}

	// Every `havsd COMMAND ...` in backquotes or a shell block.
	lines := regexp.MustCompile("`(havsd [^`]+)`").FindAllStringSubmatch(readme, -1)
	var cmds []string
	for _, m := range lines {
		cmds = append(cmds, m[1])
	}
	for _, b := range blocks {
		for line := range strings.Lines(b.text) {
			if f := strings.Fields(line); len(f) > 1 && (f[0] == "havsd" || strings.HasSuffix(f[0], "/havsd")) {
				cmds = append(cmds, "havsd "+strings.Join(f[1:], " "))
			}
		}
	}
	if len(cmds) < 10 {
		t.Fatalf("found %d havsd command lines in README.md, want at least 10", len(cmds))
	}
	known := map[string]bool{}
	for _, c := range commands() {
		known[c.name] = true
	}
	flagRE := regexp.MustCompile(`(?:^|[\s\[|])(--?[a-zA-Z][a-zA-Z0-9-]*)`)
	for _, line := range cmds {
		f := strings.Fields(strings.NewReplacer(`\|`, "|", "[", " ", "]", " ").Replace(line))
		name := f[1]
		if !known[name] {
			t.Errorf("README.md: %q: no command %q", line, name)
			continue
		}
		var out, errb bytes.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
		c.main(t.Context(), []string{name, "-h"})
		help := out.String() + errb.String()
		for _, m := range flagRE.FindAllStringSubmatch(strings.Join(f[2:], " "), -1) {
			flag := "-" + strings.TrimLeft(m[1], "-")
			if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(flag) + `\b`).MatchString(help) {
				t.Errorf("README.md: %q: havsd %s has no flag %s; its usage:\n%s", line, name, m[1], help)
			}
		}
	}

	// Every test a `go test -run NAME ./pkg/` (or run-tests.sh -test.run
	// NAME with HAVSD_VM_PKGS=./pkg) line names exists.
	runs := 0
	for _, m := range regexp.MustCompile("`([^`]*(?:go test|run-tests.sh)[^`]*)`").FindAllStringSubmatch(readme, -1) {
		name := regexp.MustCompile(`-(?:test\.)?run '?([A-Za-z0-9_]+)`).FindStringSubmatch(m[1])
		pkg := regexp.MustCompile(`(?:^|[\s=])(\./[a-z0-9/]+)`).FindStringSubmatch(m[1])
		if name == nil || pkg == nil || name[1] == "XXX" {
			continue
		}
		runs++
		files, _ := filepath.Glob(filepath.Join("../..", pkg[1], "*_test.go"))
		found := false
		for _, f := range files {
			b, _ := os.ReadFile(f)
			found = found || bytes.Contains(b, []byte("func "+name[1]+"("))
		}
		if !found {
			t.Errorf("README.md: %q: no test %s in %s", m[1], name[1], pkg[1])
		}
	}
	if runs < 2 {
		t.Errorf("found %d test commands in README.md, want at least 2", runs)
	}

	want := "Exit codes: 0 success, 1 runtime failure, 2 bad command line, 3 bad configuration."
	if !strings.Contains(readme, want) || exitOK != 0 || exitFailure != 1 || exitUsage != 2 || exitBadConfig != 3 {
		t.Errorf("README.md's exit codes are not %q", want)
	}
	if want := "`havsd status` exits 4 when"; !strings.Contains(readme, want) || exitNoVRRP != 4 {
		t.Errorf("README.md does not document havsd status's exit code %d (%q)", exitNoVRRP, want)
	}
}
