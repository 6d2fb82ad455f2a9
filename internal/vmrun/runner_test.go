package vmrun

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// readNewc parses a newc archive into name -> (mode, data), stopping at the
// trailer. It is the reader the writer is checked against.
func readNewc(t *testing.T, b []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	for off := 0; ; {
		if len(b) < off+110 || string(b[off:off+6]) != "070701" {
			t.Fatalf("bad header at %d", off)
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("bad field %d at %d: %v", i, off, err)
			}
			return int(v)
		}
		mode, size, nameLen := field(1), field(6), field(11)
		name := string(b[off+110 : off+110+nameLen-1])
		off = align4(off + 110 + nameLen)
		data := string(b[off : off+size])
		off = align4(off + size)
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Errorf("%d bytes after the trailer", len(b)-off)
			}
			return out
		}
		out[name] = strconv.FormatInt(int64(mode), 8) + " " + data
	}
}

func align4(n int) int { return (n + 3) &^ 3 }

func TestCPIOWriter(t *testing.T) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	w.File("/havsd/a.test", 0o755, []byte("binary"))
	w.File("havsd/sub/b", 0o644, []byte("xyz"))
	w.File("init", 0o755, []byte("#!/bin/sh\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readNewc(t, buf.Bytes())
	want := map[string]string{
		"havsd":        "40755 ",
		"havsd/a.test": "100755 binary",
		"havsd/sub":    "40755 ",
		"havsd/sub/b":  "100644 xyz",
		"init":         "100755 #!/bin/sh\n",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("archive (-want +got):\n%s", d)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d is not a multiple of 4", buf.Len())
	}
}

func TestInitScript(t *testing.T) {
	s := initScript(withDefaults(Options{
		Command: []string{"/havsd/x.test", "-test.run", "A|B", "it's"},
		Env:     []string{"CI=true"},
	}))
	for _, want := range []string{
		"export HAVSD_VM=1\n",
		"export CI=true\n",
		`/havsd/x.test -test.run 'A|B' 'it'\''s' </dev/null`,
		"echo \"" + markStart + "$(cut",
		"echo \"" + markExit + "${rc}" + markEnd + "\"",
		"cd /tmp\n",
		"poweroff -f",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("init script lacks %q:\n%s", want, s)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain":   "plain",
		"":        "''",
		"a b":     "'a b'",
		"it's":    `'it'\''s'`,
		"$HOME":   "'$HOME'",
		"-x=1,2":  "-x=1,2",
		"A|B":     "'A|B'",
		"\"q\"":   `'"q"'`,
		"new\nln": "'new\nln'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestScanConsole(t *testing.T) {
	tests := []struct {
		name    string
		console string
		want    Result
	}{
		{"exit status", "[ 1.0] boot\r\n" + markStart + "3.25" + markEnd + "\r\n--- PASS\r\n" + markExit + "0" + markEnd + "\r\n",
			Result{ExitCode: 0, GuestUptime: 3250 * time.Millisecond}},
		{"failure", markStart + "1.5" + markEnd + "\n" + markExit + "1" + markEnd + "\n",
			Result{ExitCode: 1, GuestUptime: 1500 * time.Millisecond}},
		{"no marker", "[ 1.0] boot\n", Result{ExitCode: -1}},
		{"panic", "Kernel panic - not syncing: Attempted to kill init!\n", Result{ExitCode: -1, Panicked: true}},
		{"panic after exit does not count", markExit + "0" + markEnd + "\nKernel panic - not syncing: x\n", Result{ExitCode: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Result{ExitCode: -1}
			var out bytes.Buffer
			scanConsole(strings.NewReader(tt.console), &out, time.Now(), &res, func() {})
			res.Boot = 0
			if d := cmp.Diff(tt.want, res); d != "" {
				t.Errorf("result (-want +got):\n%s", d)
			}
			if strings.Contains(out.String(), "\r") {
				t.Errorf("console copy keeps carriage returns: %q", out.String())
			}
		})
	}
}

// TestRunWithoutCache checks that a missing cache is reported as such.
func TestRunWithoutCache(t *testing.T) {
	_, err := Run(context.Background(), Options{Cache: t.TempDir(), Command: []string{"true"}})
	if !errors.Is(err, ErrNoCache) {
		t.Errorf("Run with an empty cache: %v, want ErrNoCache", err)
	}
}

// TestRunFakeQEMU drives Run with a script standing in for qemu, to check
// the exit status, a guest that never reports one, and the timeout.
func TestRunFakeQEMU(t *testing.T) {
	cache := t.TempDir()
	for _, f := range []string{"vmlinuz", "base.cpio"} {
		if err := os.WriteFile(filepath.Join(cache, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		script   string
		wantCode int
		wantErr  bool
	}{
		{"passes", "echo '" + markStart + "1.0" + markEnd + "'; echo '" + markExit + "0" + markEnd + "'", 0, false},
		{"test fails", "echo '" + markExit + "1" + markEnd + "'", 1, false},
		{"no status", "echo booted; exit 0", -1, true},
		{"qemu fails", "echo 'qemu: cannot boot' >&2; exit 1", -1, true},
		{"hangs", "exec sleep 30", -1, true},
		{"hangs after reporting", "echo '" + markExit + "3" + markEnd + "'; exec sleep 30", 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qemu := filepath.Join(t.TempDir(), "qemu")
			if err := os.WriteFile(qemu, []byte("#!/bin/sh\n"+tt.script+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), Options{
				Cache: cache, QEMU: qemu, Command: []string{"/x"},
				Timeout: time.Second, Console: io.Discard,
			})
			if (err != nil) != tt.wantErr || res.ExitCode != tt.wantCode {
				t.Errorf("Run = exit %d, %v; want exit %d, error %v", res.ExitCode, err, tt.wantCode, tt.wantErr)
			}
		})
	}
}
