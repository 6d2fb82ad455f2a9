package track

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/test/need"
)

func TestCheckScriptPath(t *testing.T) {
	need.Root(t, "changing file owners")
	base := t.TempDir() // root's, under the sticky /tmp
	mk := func(t *testing.T, rel string, mode os.FileMode, uid int) string {
		t.Helper()
		p := filepath.Join(base, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		os.Chown(p, uid, 0)
		return p
	}
	cases := []struct {
		name  string
		setup func(t *testing.T) string
		want  string // "" for accepted, else part of the error
	}{
		{"root's 0755 accepted", func(t *testing.T) string { return mk(t, "ok/chk", 0o755, 0) }, ""},
		{"system binary accepted", func(*testing.T) string { return "/bin/sh" }, ""},
		{"relative path refused", func(*testing.T) string { return "bin/chk" }, "not an absolute path"},
		{"world-writable file", func(t *testing.T) string { return mk(t, "ww/chk", 0o757, 0) }, "writable by every user"},
		{"file owned by nobody", func(t *testing.T) string { return mk(t, "nb/chk", 0o755, 65534) }, "owned by uid 65534"},
		{"not executable", func(t *testing.T) string { return mk(t, "nx/chk", 0o644, 0) }, "not executable"},
		{"group-writable, group not root", func(t *testing.T) string {
			p := mk(t, "gw/chk", 0o775, 0)
			os.Chown(p, 0, 65534)
			return p
		}, "writable by group 65534"},
		{"directory owned by nobody", func(t *testing.T) string {
			p := mk(t, "dnb/chk", 0o755, 0)
			os.Chown(filepath.Dir(p), 65534, 0)
			return p
		}, "owned by uid 65534"},
		{"world-writable directory without sticky bit", func(t *testing.T) string {
			p := mk(t, "dww/chk", 0o755, 0)
			os.Chmod(filepath.Dir(p), 0o777)
			return p
		}, "writable by every user"},
		{"sticky world-writable directory, root's file", func(t *testing.T) string {
			p := mk(t, "dst/chk", 0o755, 0)
			os.Chmod(filepath.Dir(p), 0o777|os.ModeSticky)
			return p
		}, ""},
		{"symlink to a writable script", func(t *testing.T) string {
			p := mk(t, "ln/target", 0o777, 0)
			l := filepath.Join(base, "ln/link")
			os.Symlink(p, l)
			return l
		}, "writable by every user"},
		{"missing", func(*testing.T) string { return filepath.Join(base, "absent") }, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckScriptPath(c.setup(t))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestScriptRunsAsUser(t *testing.T) {
	need.Root(t, "running a script as another user")
	c, err := LookupUser("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	if c.UID == 0 {
		t.Fatal("nobody is uid 0")
	}
	r := RunScript(context.Background(), []string{"/bin/sh", "-c", `test "$(id -u)" = 65534 || { id -u; exit 1; }`}, &c, 5*time.Second)
	if c.UID == 65534 && !r.OK {
		t.Errorf("script as nobody: %+v", r)
	}
	if _, err := LookupUser("pa-no-such-user"); err == nil {
		t.Error("LookupUser found a user that does not exist")
	}
}
