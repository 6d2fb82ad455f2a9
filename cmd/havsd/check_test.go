package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/lvs/ipvsadm"
	"github.com/havsd/havsd/lvs/ipvsadm/ipvsadmtest"
)

// runCmd runs one subcommand in-process and returns its exit code and output.
func runCmd(t *testing.T, stdin string, f func(*cli, context.Context, []string) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	code := f(c, context.Background(), args)
	return code, out.String(), errb.String()
}

// stripComments drops '#' lines, as the golden rule files carry their
// provenance in comments.
func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if !strings.HasPrefix(line, "#") {
			b.WriteString(line)
		}
	}
	return b.String()
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring
		stderr     string // substring
		emptyOut   bool
		emptyError bool
	}{
		{"good", []string{"-f", "../../examples/full.hcl"}, exitOK, "ok: 3 VRRP instance(s), 8 virtual service(s)", "", false, true},
		{"good quiet", []string{"-q", "-f", "../../examples/dr.hcl"}, exitOK, "", "", true, true},
		{"bad", []string{"-f", "../../conf/testdata/bad/services.hcl"}, exitBadConfig, "", "services.hcl:5:17", true, false},
		{"bad quiet", []string{"-q", "-f", "../../conf/testdata/bad/services.hcl"}, exitBadConfig, "", "", true, true},
		{"missing file", []string{"-f", "no-such.hcl"}, exitBadConfig, "", "Cannot read configuration", true, false},
		{"no -f", nil, exitBadConfig, "", "Reading " + defaultConfig, true, false},
		{"stray argument", []string{"-f", "x.hcl", "y"}, exitUsage, "", "usage", true, false},
		{"bad flag", []string{"-z"}, exitUsage, "", "flag provided but not defined", true, false},
		{"help", []string{"-h"}, exitOK, "", "-q", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, "", (*cli).check, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errs)
			}
			if !strings.Contains(out, tt.stdout) || (tt.emptyOut && out != "") {
				t.Errorf("stdout = %q, want %q", out, tt.stdout)
			}
			if !strings.Contains(errs, tt.stderr) || (tt.emptyError && errs != "") {
				t.Errorf("stderr = %q, want %q", errs, tt.stderr)
			}
		})
	}
}

// TestCheckExamples checks that havsd check accepts every example.
func TestCheckExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.hcl")
	if len(files) < 5 {
		t.Fatalf("found %d examples, want at least 5", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if code, _, errs := runCmd(t, "", (*cli).check, "-f", f); code != exitOK || errs != "" {
				t.Errorf("check %s: exit %d\n%s", f, code, errs)
			}
		})
	}
}

// TestExportTutorial checks that the tutorial's labs export exactly the
// rule lines of examples/testdata/*.ipvsadm.
func TestExportTutorial(t *testing.T) {
	for _, lab := range []string{"nat-rr", "nat-wrr", "dr", "fwmark"} {
		t.Run(lab, func(t *testing.T) {
			golden, err := os.ReadFile("../../examples/testdata/" + lab + ".ipvsadm")
			if err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCmd(t, "", (*cli).export, "-f", "../../examples/"+lab+".hcl")
			if code != exitOK {
				t.Fatalf("export: exit %d\n%s", code, errs)
			}
			if diff := cmp.Diff(stripComments(string(golden)), out); diff != "" {
				t.Errorf("export differs from the tutorial (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExportFull(t *testing.T) {
	code, out, errs := runCmd(t, "", (*cli).export, "-f", "../../examples/full.hcl")
	if code != exitOK {
		t.Fatalf("export: exit %d\n%s", code, errs)
	}
	want := `-A -t 172.25.254.100:80 -s wrr
-a -t 172.25.254.100:80 -r 192.168.0.101:80 -m -w 2
-a -t 172.25.254.100:80 -r 192.168.0.102:8080 -m -w 1
-a -t 172.25.254.100:80 -r 192.168.0.103:80 -m -w 1
-A -t 172.25.254.100:443 -s sh -b sh-fallback,sh-port
-a -t 172.25.254.100:443 -r 10.1.0.11:8443 -m -w 1
-a -t 172.25.254.100:443 -r 10.1.0.12:8443 -m -w 1
-A -u 172.25.254.101:53 -s mh -b mh-port
-a -u 172.25.254.101:53 -r 192.168.0.131:53 -g -w 1
-a -u 172.25.254.101:53 -r 192.168.0.132:53 -g -w 1
-A -u 172.25.254.101:5060 -s lc -p 300 -M 255.255.255.0 --pe sip
-a -u 172.25.254.101:5060 -r 192.168.0.121:5060 -m -w 1
-a -u 172.25.254.101:5060 -r 192.168.0.122:5060 -m -w 1
-A --sctp-service 172.25.254.101:3868 -s sed
-a --sctp-service 172.25.254.101:3868 -r 10.2.0.11:3868 -i -w 1 --tun-type ipip
-a --sctp-service 172.25.254.101:3868 -r 10.2.0.12:3868 -i -w 3 --tun-type ipip
-A -t [2001:db8::100]:80 -s twos
-a -t [2001:db8::100]:80 -r [2001:db8:1::11]:80 -m -w 1
-a -t [2001:db8::100]:80 -r [2001:db8:1::12]:80 -m -w 1
-A -f 66 -s rr -p 3000
-a -f 66 -r 192.168.0.141:0 -g -w 1
-a -f 66 -r 192.168.0.142:0 -g -w 1
-A -f 67 -6 -s wlc -p 600 -M 64
-a -f 67 -6 -r [2001:db8:1::11]:0 -g -w 1
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("export (-want +got):\n%s", diff)
	}
}

func TestExportErrors(t *testing.T) {
	code, out, errs := runCmd(t, "", (*cli).export, "-f", "../../conf/testdata/bad/checks.hcl")
	if code != exitBadConfig || out != "" || !strings.Contains(errs, "Unknown check kind") {
		t.Errorf("export of a bad config: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, _, _ := runCmd(t, "", (*cli).export); code != exitUsage {
		t.Errorf("export without -f: exit %d", code)
	}
}

// roundTrip imports rules and exports the written config again.
func roundTrip(t *testing.T, rules string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "imported.hcl")
	code, out, errs := runCmd(t, rules, (*cli).importRules, "-o", path)
	if code != exitOK || out != "" {
		t.Fatalf("import: exit %d, stdout %q\n%s\nrules:\n%s", code, out, errs, rules)
	}
	code, out, errs = runCmd(t, "", (*cli).export, "-f", path)
	if code != exitOK {
		hcl, _ := os.ReadFile(path)
		t.Fatalf("export of imported config: exit %d\n%s\n%s", code, errs, hcl)
	}
	return out
}

// TestImportTutorial: export(import(x)) == x for the tutorial's rule sets.
func TestImportTutorial(t *testing.T) {
	files, _ := filepath.Glob("../../examples/testdata/*.ipvsadm")
	if len(files) < 5 {
		t.Fatalf("found %d rule sets", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := stripComments(string(raw))
			if diff := cmp.Diff(want, roundTrip(t, string(raw))); diff != "" {
				t.Errorf("export(import(x)) != x (-want +got):\n%s", diff)
			}
		})
	}
}

// TestImportRandom is the property test: for random tables x,
// export(import(Format(x))) == Format(x).
func TestImportRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	n := 300
	if testing.Short() {
		n = 30
	}
	for i := range n {
		rules := ipvsadm.Format(ipvsadmtest.Random(r))
		if rules == "" {
			continue // nothing to import is an error (TestImportAsOperators)
		}
		if got := roundTrip(t, rules); got != rules {
			t.Fatalf("set %d: export(import(x)) != x:\n%s", i, cmp.Diff(rules, got))
		}
	}
}

func TestImportStdoutAndErrors(t *testing.T) {
	code, out, errs := runCmd(t, "-A -t 172.0.0.30:80 -s rr\n-a -t 172.0.0.30:80 -r 192.168.1.10:80 -m -w 1\n", (*cli).importRules)
	if code != exitOK || errs != "" {
		t.Fatalf("import: exit %d\n%s", code, errs)
	}
	for _, want := range []string{`virtual_service "tcp_172_0_0_30_80"`, `address   = "172.0.0.30:80"`, `real_server "192.168.1.10:80"`} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	code, _, errs = runCmd(t, "-A -t 1.2.3.4:80\n-a -t 1.2.3.4:80 -r 5.6.7.8 -w x\n", (*cli).importRules)
	if code != exitFailure || !strings.Contains(errs, "stdin:2: ") {
		t.Errorf("import of bad rules: exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCmd(t, "-A -t 1.2.3.4:80 -s bogus\n", (*cli).importRules)
	if code != exitBadConfig || !strings.Contains(errs, `"bogus" is not one of`) {
		t.Errorf("import of an unknown scheduler: exit %d, stderr %q", code, errs)
	}
}
