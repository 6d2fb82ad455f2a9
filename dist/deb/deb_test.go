package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/test/need"
)

func TestDebianVersion(t *testing.T) {
	date := time.Date(2026, 12, 2, 23, 59, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		src  source
		want string
	}{
		{"no tag", source{Hash: "1d4d91a", Date: date}, "0.0.0~git20261202.1d4d91a"},
		{"no tag, dirty", source{Hash: "1d4d91a", Date: date, Dirty: true}, "0.0.0~git20261202.1d4d91a+dirty"},
		{"at tag", source{Tag: "v1.2.0", Hash: "1d4d91a", Date: date}, "1.2.0"},
		{"after tag", source{Tag: "v1.2.0", Ahead: 4, Hash: "1d4d91a", Date: date}, "1.2.0+git4.1d4d91a"},
		{"release candidate", source{Tag: "v1.3.0-rc1", Hash: "1d4d91a", Date: date}, "1.3.0~rc1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.src.debianVersion()
			if got != tc.want {
				t.Errorf("debianVersion() = %q, want %q", got, tc.want)
			}
			if err := validVersion(got); err != nil {
				t.Error(err)
			}
		})
	}
	for _, bad := range []string{"", "v1.0", "1.0-1", "1:1.0", "1.0 beta", "devel"} {
		if validVersion(bad) == nil {
			t.Errorf("validVersion(%q) accepted it", bad)
		}
	}
}

// TestVersionOrder checks with dpkg itself that each kind of version sorts
// after the one it follows.
func TestVersionOrder(t *testing.T) {
	need.Binaries(t, "dpkg")
	order := []string{"0.0.0~git20261201.fffffff", "0.0.0~git20261202.1d4d91a", "0.0.0~git20261202.1d4d91a+dirty",
		"1.3.0~rc1", "1.3.0", "1.3.0+git4.1d4d91a", "1.3.1"}
	for i := 1; i < len(order); i++ {
		if err := exec.Command("dpkg", "--compare-versions", order[i-1], "lt", order[i]).Run(); err != nil {
			t.Errorf("dpkg: %s is not before %s (%v)", order[i-1], order[i], err)
		}
	}
}

func TestParseDescribe(t *testing.T) {
	for _, tc := range []struct {
		in    string
		tag   string
		ahead int
		ok    bool
	}{
		{"v1.2.0-0-g1d4d91a", "v1.2.0", 0, true},
		{"v1.3.0-rc1-12-gabcdef0", "v1.3.0-rc1", 12, true},
		{"1d4d91a", "", 0, false},
	} {
		tag, ahead, ok := parseDescribe(tc.in)
		if tag != tc.tag || ahead != tc.ahead || ok != tc.ok {
			t.Errorf("parseDescribe(%q) = %q, %d, %v; want %q, %d, %v", tc.in, tag, ahead, ok, tc.tag, tc.ahead, tc.ok)
		}
	}
}

// TestShippedConfig checks that /etc/havsd/havsd.hcl as shipped loads, and
// that so does its commented example once uncommented.
func TestShippedConfig(t *testing.T) {
	t.Chdir("../..")
	cfg, _, diags := conf.Load("dist/havsd.hcl")
	if diags.HasErrors() || cfg == nil {
		t.Fatalf("dist/havsd.hcl: %v", diags)
	}
	if len(cfg.Instances) != 0 || len(cfg.Services) != 0 {
		t.Errorf("the shipped config runs %d instances and %d services; it must do nothing until edited", len(cfg.Instances), len(cfg.Services))
	}
	text, err := os.ReadFile("dist/havsd.hcl")
	if err != nil {
		t.Fatal(err)
	}
	head, example, ok := strings.Cut(string(text), "# vrrp_instance")
	if !ok {
		t.Fatal("dist/havsd.hcl has no commented vrrp_instance example")
	}
	var b strings.Builder
	b.WriteString(head)
	for line := range strings.Lines("# vrrp_instance" + example) {
		// Configuration lines start lower case, indented or with "}"; prose with a capital.
		if rest, ok := strings.CutPrefix(line, "# "); ok && rest != "" && strings.ContainsAny(rest[:1], " }abcdefghijklmnopqrstuvwxyz") {
			line = rest
		}
		b.WriteString(line)
	}
	path := filepath.Join(t.TempDir(), "uncommented.hcl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _, diags = conf.Load(path)
	if diags.HasErrors() || cfg == nil {
		t.Fatalf("the uncommented example:\n%s\n%v", b.String(), diags)
	}
	if len(cfg.Instances) != 1 || len(cfg.Services) != 1 {
		t.Errorf("the uncommented example has %d instances and %d services, want 1 and 1", len(cfg.Instances), len(cfg.Services))
	}
}

// TestLayout checks that every file the package installs exists, lands at
// a unique absolute path, and that documentation over 4 KiB is compressed.
func TestLayout(t *testing.T) {
	t.Chdir("../..")
	stage := t.TempDir()
	for _, n := range []string{"havsd", "copyright", "changelog.gz"} {
		if err := os.WriteFile(filepath.Join(stage, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := layout(stage)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var conffiles []string
	for _, f := range fs {
		st, err := os.Stat(f.src)
		if err != nil {
			t.Errorf("%s: %v", f.dst, err)
			continue
		}
		if !filepath.IsAbs(f.dst) || seen[f.dst] {
			t.Errorf("destination %s: not absolute or installed twice", f.dst)
		}
		seen[f.dst] = true
		if strings.HasPrefix(f.dst, "/usr/share/doc/") && !strings.HasSuffix(f.dst, ".gz") && !strings.HasSuffix(f.dst, "/copyright") && st.Size() > 4096 {
			t.Errorf("%s is %d bytes and not compressed", f.dst, st.Size())
		}
		if f.conffile {
			conffiles = append(conffiles, f.dst)
		}
	}
	for _, want := range []string{"/usr/sbin/havsd", "/usr/lib/systemd/system/havsd.service", "/usr/share/man/man8/havsd.8.gz",
		"/usr/share/man/man5/havsd.hcl.5.gz", "/usr/share/bash-completion/completions/havsd", "/usr/share/zsh/vendor-completions/_havsd",
		"/usr/share/doc/havsd/copyright", "/usr/share/doc/havsd/changelog.gz", "/usr/share/havsd/grafana/havsd.json"} {
		if !seen[want] {
			t.Errorf("the package does not install %s", want)
		}
	}
	if len(conffiles) != 1 || conffiles[0] != "/etc/havsd/havsd.hcl" {
		t.Errorf("conffiles %v, want [/etc/havsd/havsd.hcl]", conffiles)
	}
}
