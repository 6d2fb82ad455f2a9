package main

import (
	"bytes"
	"compress/gzip"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"unicode"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

const maintainer = "havsd maintainers <havsd@users.noreply.github.com>"

const description = `high-availability load-balancer director (VRRP + IPVS)
 havsd floats virtual addresses between directors with VRRP (v2 and v3),
 balances them across real servers with the kernel's IPVS, and steers the
 weights with health checks (TCP, HTTP/HTTPS, scripts, UDP, DNS, ping): the
 roles of keepalived and ipvsadm in one daemon, configured in HCL.
 .
 It reconciles the kernel's IPVS table instead of replaying it, reports its
 state over a control socket (havsd status) and Prometheus metrics, and
 tells systemd when a reload was rejected.
 .
 The service is not enabled on installation: write /etc/havsd/havsd.hcl,
 check it with "havsd check", then "systemctl enable --now havsd".`

// file is one entry of the package: a source (relative to the repository,
// or absolute in the staging directory) and where it is installed.
type file struct {
	src, dst string
	mode     os.FileMode
	conffile bool
}

// layout lists what the package installs. Documentation larger than 4 KiB
// is compressed, as Debian policy (12.3) asks.
func layout(stage string) ([]file, error) {
	const doc = "/usr/share/doc/havsd/"
	fs := []file{
		{filepath.Join(stage, "havsd"), "/usr/sbin/havsd", 0o755, false},
		{"dist/havsd.service", "/usr/lib/systemd/system/havsd.service", 0o644, false},
		{"dist/havsd.hcl", "/etc/havsd/havsd.hcl", 0o644, true},
		{"dist/completion/havsd.bash", "/usr/share/bash-completion/completions/havsd", 0o644, false},
		{"dist/completion/_havsd", "/usr/share/zsh/vendor-completions/_havsd", 0o644, false},
		{"dist/grafana/havsd.json", "/usr/share/havsd/grafana/havsd.json", 0o644, false},
		{"dist/prometheus/havsd-rules.yml", "/usr/share/havsd/prometheus/havsd-rules.yml", 0o644, false},
		{filepath.Join(stage, "copyright"), doc + "copyright", 0o644, false},
		{filepath.Join(stage, "changelog.gz"), doc + "changelog.gz", 0o644, false},
		{"dist/deb/lintian-overrides", "/usr/share/lintian/overrides/havsd", 0o644, false},
	}
	for _, m := range []struct{ src, dst string }{
		{"dist/man/havsd.8", "/usr/share/man/man8/havsd.8.gz"},
		{"dist/man/havsd.hcl.5", "/usr/share/man/man5/havsd.hcl.5.gz"},
	} {
		staged, err := gzipTo(stage, m.src, filepath.Base(m.dst))
		if err != nil {
			return nil, err
		}
		fs = append(fs, file{staged, m.dst, 0o644, false})
	}
	docs := []struct{ src, dst string }{{"README.md", doc + "README.md"}, {"doc/config-sketch.hcl", doc + "examples/config-sketch.hcl"}}
	examples, err := filepath.Glob("examples/*.hcl")
	if err != nil {
		return nil, err
	}
	for _, e := range examples {
		docs = append(docs, struct{ src, dst string }{e, doc + "examples/" + filepath.Base(e)})
	}
	for _, d := range docs {
		st, err := os.Stat(d.src)
		if err != nil {
			return nil, err
		}
		if st.Size() <= 4096 {
			fs = append(fs, file{d.src, d.dst, 0o644, false})
			continue
		}
		staged, err := gzipTo(stage, d.src, strings.ReplaceAll(strings.TrimPrefix(d.dst, doc), "/", "_")+".gz")
		if err != nil {
			return nil, err
		}
		fs = append(fs, file{staged, d.dst + ".gz", 0o644, false})
	}
	return fs, nil
}

// packageInfo stages the generated files and describes the package.
func packageInfo(stage, ver, arch string, src source) (*nfpm.Info, error) {
	if err := writeCopyright(filepath.Join(stage, "copyright"), filepath.Join(stage, "havsd")); err != nil {
		return nil, err
	}
	if err := writeChangelog(filepath.Join(stage, "changelog.gz"), ver, src); err != nil {
		return nil, err
	}
	entries, err := layout(stage)
	if err != nil {
		return nil, err
	}
	var contents files.Contents
	for _, f := range entries {
		c := &files.Content{Source: f.src, Destination: f.dst,
			FileInfo: &files.ContentFileInfo{Mode: f.mode, Owner: "root", Group: "root", MTime: src.Date}}
		if f.conffile {
			c.Type = files.TypeConfig
		}
		contents = append(contents, c)
	}
	scripts := map[string]string{"postinst": postinst, "prerm": prerm, "postrm": postrm}
	for name, body := range scripts {
		p := filepath.Join(stage, name)
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			return nil, err
		}
		scripts[name] = p
	}
	return &nfpm.Info{
		Name:          "havsd",
		Arch:          arch,
		Platform:      "linux",
		Version:       ver,
		VersionSchema: "none",
		Section:       "net",
		Priority:      "optional",
		Maintainer:    maintainer,
		Description:   description,
		Homepage:      "https://github.com/havsd/havsd",
		MTime:         src.Date,
		Overridables: nfpm.Overridables{
			Contents: contents,
			Umask:    0o022,
			Suggests: []string{"ipvsadm", "prometheus"},
			Scripts:  nfpm.Scripts{PostInstall: scripts["postinst"], PreRemove: scripts["prerm"], PostRemove: scripts["postrm"]},
			Deb:      nfpm.Deb{Compression: "xz"},
		},
	}, nil
}

// writeDeb packages info into path.
func writeDeb(info *nfpm.Info, path string) error {
	if err := nfpm.Validate(info); err != nil {
		return fmt.Errorf("package description: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// gzipTo compresses src into stage/name, reproducibly (no name, no time).
func gzipTo(stage, src, name string) (string, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	out := filepath.Join(stage, name)
	return out, os.WriteFile(out, buf.Bytes(), 0o644)
}

// writeChangelog writes the native package's changelog.gz: one entry for
// the commit the package is built from.
func writeChangelog(path, ver string, src source) error {
	text := fmt.Sprintf("havsd (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n",
		ver, src.Hash, maintainer, src.Date.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	tmp := path + ".txt"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	_, err := gzipTo(filepath.Dir(path), tmp, filepath.Base(path))
	return err
}

// writeCopyright writes the copyright file: havsd's own notice, then the
// license of the Go toolchain and of every module linked into the binary,
// found in the module cache.
func writeCopyright(path, binary string) error {
	bi, err := buildinfo.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("reading the build info of %s: %w", binary, err)
	}
	modcache, err := goEnv("GOMODCACHE")
	if err != nil {
		return err
	}
	goroot, err := goEnv("GOROOT")
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("havsd\n\nCopyright: the havsd authors, https://github.com/havsd/havsd\n")
	b.WriteString("License: no license is declared in the havsd repository yet.\n\n")
	b.WriteString("/usr/sbin/havsd is statically linked with the Go standard library and the\n")
	b.WriteString("Go modules below; their copyright notices and licenses follow.\n")
	if err := appendLicense(&b, "Go standard library "+runtime.Version(), filepath.Join(goroot, "LICENSE")); err != nil {
		return err
	}
	deps := slices.Clone(bi.Deps)
	slices.SortFunc(deps, func(a, b *debug.Module) int { return strings.Compare(a.Path, b.Path) })
	for _, d := range deps {
		if d.Replace != nil {
			d = d.Replace
		}
		dir := filepath.Join(modcache, escapeModulePath(d.Path)+"@"+d.Version)
		lic, err := findLicense(dir)
		if err != nil {
			return fmt.Errorf("module %s %s: %w", d.Path, d.Version, err)
		}
		if err := appendLicense(&b, d.Path+" "+d.Version, lic); err != nil {
			return err
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// commonLicenses are licenses Debian ships in /usr/share/common-licenses,
// by a phrase of their text: the copyright file refers to them rather than
// repeating them (lintian: copyright-file-contains-full-apache-2-license).
var commonLicenses = []struct {
	name   string
	phrase *regexp.Regexp
}{
	{"Apache-2.0", regexp.MustCompile(`Apache License,?\s+Version 2\.0`)},
	{"MPL-2.0", regexp.MustCompile(`Mozilla Public License,?\s+[Vv]ersion 2\.0`)},
}

func appendLicense(b *strings.Builder, what, path string) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	head := string(text[:min(len(text), 400)])
	for _, l := range commonLicenses {
		if l.phrase.MatchString(head) {
			fmt.Fprintf(b, "\n-- %s --\n\nLicense: %s\nOn Debian systems the full text is in /usr/share/common-licenses/%s.\n", what, l.name, l.name)
			return nil
		}
	}
	fmt.Fprintf(b, "\n-- %s (%s) --\n\n%s\n", what, filepath.Base(path), strings.TrimSpace(string(text)))
	return nil
}

// findLicense returns the license file at the root of a module directory.
func findLicense(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		n := strings.ToUpper(e.Name())
		if !e.IsDir() && (strings.HasPrefix(n, "LICENSE") || strings.HasPrefix(n, "LICENCE") || strings.HasPrefix(n, "COPYING")) {
			return filepath.Join(dir, e.Name()), nil
		}
	}
	return "", fmt.Errorf("no LICENSE file in %s", dir)
}

// escapeModulePath applies the module cache's case encoding (!x for X).
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteString("!" + string(unicode.ToLower(r)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}
