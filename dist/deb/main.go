// Command deb builds havsd's Debian package from the repository:
//
//	go run ./dist/deb -o DIR
//
// writes DIR/havsd_VERSION_ARCH.deb. It builds the binary (static PIE, the
// version from git describe injected with -ldflags), stages the man pages,
// completions, unit, default configuration, documentation and copyright
// notices, and hands them to nfpm. Run it from the repository's root.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

func main() {
	out := flag.String("o", "", "output `directory` for the .deb (required)")
	arch := flag.String("arch", runtime.GOARCH, "target architecture, as GOARCH")
	ver := flag.String("version", "", "package `version` (default: from git describe)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./dist/deb -o DIR [-arch GOARCH] [-version V]")
		os.Exit(2)
	}
	path, err := build(*out, *arch, *ver)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dist/deb:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

// build makes the package and returns its path.
func build(outDir, goarch, ver string) (string, error) {
	debArch, ok := debianArch[goarch]
	if !ok {
		return "", fmt.Errorf("no Debian architecture known for GOARCH=%s", goarch)
	}
	src, err := gitSource()
	if err != nil {
		return "", err
	}
	if ver == "" {
		ver = src.debianVersion()
	}
	if err := validVersion(ver); err != nil {
		return "", err
	}
	stage, err := os.MkdirTemp("", "havsd-deb-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stage)
	if err := buildBinary(filepath.Join(stage, "havsd"), goarch, ver); err != nil {
		return "", err
	}
	info, err := packageInfo(stage, ver, debArch, src)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(outDir, fmt.Sprintf("havsd_%s_%s.deb", ver, debArch))
	if err := writeDeb(info, path); err != nil {
		return "", err
	}
	return path, nil
}

// debianArch maps GOARCH to Debian's architecture names.
var debianArch = map[string]string{
	"amd64": "amd64", "arm64": "arm64", "386": "i386", "arm": "armhf",
	"ppc64le": "ppc64el", "s390x": "s390x", "riscv64": "riscv64", "loong64": "loong64",
}
