package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// source is the commit the package is built from.
type source struct {
	Tag   string    // nearest v-prefixed release tag, "" when there is none
	Ahead int       // commits since Tag
	Hash  string    // abbreviated commit hash
	Date  time.Time // commit time: the package's timestamps and changelog date
	Dirty bool      // the work tree has uncommitted changes
}

// gitSource describes HEAD with git.
func gitSource() (source, error) {
	var s source
	out, err := git("log", "-1", "--format=%h %ct")
	if err != nil {
		return s, err
	}
	hash, ct, _ := strings.Cut(out, " ")
	sec, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return s, fmt.Errorf("git log: commit time %q: %w", ct, err)
	}
	s.Hash, s.Date = hash, time.Unix(sec, 0).UTC()
	if d, err := git("describe", "--tags", "--long", "--match", "v[0-9]*", "--abbrev=7"); err == nil {
		s.Tag, s.Ahead, _ = parseDescribe(d)
	}
	st, err := git("status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return s, err
	}
	s.Dirty = st != ""
	return s, nil
}

// parseDescribe splits git describe --long output (TAG-N-gHASH).
func parseDescribe(d string) (tag string, ahead int, ok bool) {
	i := strings.LastIndex(d, "-g")
	if i < 0 {
		return "", 0, false
	}
	j := strings.LastIndex(d[:i], "-")
	if j < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(d[j+1 : i])
	if err != nil {
		return "", 0, false
	}
	return d[:j], n, true
}

// debianVersion is the package version: 1.2.3 at tag v1.2.3,
// 1.2.3+git4.abc1234 four commits later, 0.0.0~gitYYYYMMDD.abc1234 with no
// tag at all; "+dirty" marks uncommitted changes. Each sorts after the one
// before it in Debian's ordering.
func (s source) debianVersion() string {
	var v string
	switch {
	case s.Tag == "":
		v = fmt.Sprintf("0.0.0~git%s.%s", s.Date.Format("20060102"), s.Hash)
	case s.Ahead == 0:
		v = strings.TrimPrefix(s.Tag, "v")
	default:
		v = fmt.Sprintf("%s+git%d.%s", strings.TrimPrefix(s.Tag, "v"), s.Ahead, s.Hash)
	}
	if s.Dirty {
		v += "+dirty"
	}
	return strings.ReplaceAll(v, "-", "~") // v1.0.0-rc1 is 1.0.0~rc1, before 1.0.0
}

// nativeVersion is Debian's syntax for an upstream version with no epoch and
// no revision (a native package): digits first, then alphanumerics and . + ~.
var nativeVersion = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

func validVersion(v string) error {
	if !nativeVersion.MatchString(v) {
		return fmt.Errorf("version %q is not a valid Debian native version (digits first, then [A-Za-z0-9.+~])", v)
	}
	return nil
}

func git(args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("git", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// buildBinary compiles havsd for goarch with the version injected.
func buildBinary(out, goarch, ver string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildmode=pie",
		"-ldflags", "-s -w -X main.version="+ver, "-o", out, "./cmd/havsd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building havsd: %w", err)
	}
	return nil
}
