package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tests in this file replay what an operator new to havsd ran into
// (issue "no quiet wrong states"), through the CLI as they met it.

// writeFile writes text to name in a fresh temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckKeepalivedHabits: values in keepalived's upper case are read,
// with a note; keepalived's keywords are answered with havsd's; a misspelt
// virtual_ipaddress is the error, not the "No virtual address" it causes.
func TestCheckKeepalivedHabits(t *testing.T) {
	upper := writeFile(t, "upper.hcl", `vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  family            = "IPv4"
  virtual_ipaddress = ["10.0.0.1"]
}
virtual_service "web" {
  protocol  = "TCP"
  address   = "10.0.0.1:80"
  scheduler = "WRR"
  forward   = "DR"
  instance  = "VI_1"
  real_server "10.0.0.2:80" {
    check "TCP" {}
  }
}
`)
	code, out, errs := runCmd(t, "", (*cli).check, "-f", upper)
	if code != exitOK || !strings.Contains(out, "ok: 1 VRRP instance(s), 1 virtual service(s)") {
		t.Fatalf("check of upper-case values: exit %d, stdout %q\n%s", code, out, errs)
	}
	for _, want := range []string{`protocol "TCP" is read as "tcp"`, `scheduler "WRR" is read as "wrr"`,
		`forward "DR" is read as "dr"`, `family "IPv4" is read as "ipv4"`, `check kind "TCP" is read as "tcp"`} {
		if !strings.Contains(errs, want) {
			t.Errorf("check does not note %s; stderr:\n%s", want, errs)
		}
	}
	code, out, _ = runCmd(t, "", (*cli).export, "-f", upper)
	if code != exitOK || !strings.Contains(out, "-A -t 10.0.0.1:80 -s wrr") || !strings.Contains(out, "-g -w 1") {
		t.Errorf("export of upper-case values: exit %d\n%s", code, out)
	}

	habits := writeFile(t, "habits.hcl", `vrrp_instance "VI_1" {
  state            = "MASTER"
  interface        = "eth0"
  virtual_router   = 51
  virtual_ipadress = ["10.0.0.1"]
  authentication {
    auth_type = "PASS"
  }
}
virtual_service "web" {
  address = "10.0.0.1:80"
  lb_kind = "DR"
  lb_algo = "wrr"
  real_server "10.0.0.2:80" {}
}
`)
	code, _, errs = runCmd(t, "", (*cli).check, "-f", habits)
	if code != exitBadConfig {
		t.Fatalf("check of keepalived keywords: exit %d, want %d\n%s", code, exitBadConfig, errs)
	}
	for _, want := range []string{
		"habits.hcl:2:3", "`state` is keepalived's keyword: havsd has no initial state",
		"habits.hcl:4:3", `"virtual_router" is not expected here. Did you mean "virtual_router_id"?`,
		"habits.hcl:5:3", `"virtual_ipadress" is not expected here. Did you mean "virtual_ipaddress"?`,
		"habits.hcl:6:3", "`authentication` is keepalived's keyword: write `auth_pass",
		"habits.hcl:12:3", "`lb_kind` is keepalived's name: use `forward`",
		"habits.hcl:13:3", "`lb_algo` is keepalived's name: use `scheduler`",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("check does not say %q; stderr:\n%s", want, errs)
		}
	}
	for _, follow := range []string{"No virtual address", "Missing required argument"} {
		if strings.Contains(errs, follow) {
			t.Errorf("check reports the follow-on error %q of a misspelling already reported:\n%s", follow, errs)
		}
	}
}

// TestRealserverRefusesSubnet: the classic DR mistake, a /24 on lo, is
// refused unless forced; a missing flag is named.
func TestRealserverRefusesSubnet(t *testing.T) {
	tests := []struct {
		args []string
		code int
		errs []string
	}{
		{[]string{"--vip", "192.168.0.100/24", "--mode", "dr"}, exitUsage,
			[]string{"192.168.0.100/24 is not a host address: on lo it would route all of 192.168.0.0/24", "needs only 192.168.0.100/32", "--force"}},
		{[]string{"--vip", "2001:db8::100/64", "--mode", "tun"}, exitUsage, []string{"on tunl0", "2001:db8::100/128"}},
		{[]string{"--mode", "dr"}, exitUsage, []string{"missing --vip ADDR (the virtual address the director forwards to this host)"}},
		{[]string{"--vip", "192.168.0.100"}, exitUsage, []string{"missing --mode dr|tun"}},
		{nil, exitUsage, []string{"missing --vip", "missing --mode"}},
		{[]string{"-h"}, exitOK, []string{"-force"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runCmd(t, "", (*cli).realserver, append(tt.args, "--state", t.TempDir())...)
			if code != tt.code || out != "" {
				t.Errorf("exit %d, want %d; stdout %q", code, tt.code, out)
			}
			for _, want := range tt.errs {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
		})
	}
}

// TestCheckLikeRun: havsd check reads the file havsd run reads by default,
// and takes the file as its argument, as keepalived -t users write it.
func TestCheckLikeRun(t *testing.T) {
	good := "../../examples/dr.hcl"
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"default file", nil, exitBadConfig, "", "Reading " + defaultConfig},
		{"default file quiet", []string{"-q"}, exitBadConfig, "", ""},
		{"argument", []string{good}, exitOK, good + ": ok:", ""},
		{"argument then flag", []string{good, "-q"}, exitOK, "", ""},
		{"flag then argument", []string{"-q", good}, exitOK, "", ""},
		{"-f", []string{"-f", good}, exitOK, good + ": ok:", ""},
		{"-f and argument", []string{"-f", good, good}, exitUsage, "", "with -f or as the argument, not both"},
		{"two arguments", []string{good, good}, exitUsage, "", "one configuration at a time"},
		{"help", []string{"-h"}, exitOK, "", "default " + defaultConfig + ", as havsd run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(defaultConfig); err == nil && tt.code == exitBadConfig {
				t.Skipf("%s exists on this host", defaultConfig)
			}
			code, out, errs := runCmd(t, "", (*cli).check, tt.args...)
			if code != tt.code {
				t.Errorf("check %q: exit %d, want %d; stderr:\n%s", tt.args, code, tt.code, errs)
			}
			if !strings.Contains(out, tt.stdout) || (tt.stdout == "" && out != "") {
				t.Errorf("stdout = %q, want %q", out, tt.stdout)
			}
			if !strings.Contains(errs, tt.stderr) || (tt.stderr == "" && errs != "") {
				t.Errorf("stderr = %q, want %q", errs, tt.stderr)
			}
		})
	}
}

// TestImportAsOperators: every bad line reported with its place; nothing
// to import is a failure; a pasted ipvsadm -Ln table is read.
func TestImportAsOperators(t *testing.T) {
	tests := []struct {
		name, in string
		code     int
		stdout   string
		stderr   []string
	}{
		{"every error", "-A -t 10.0.0.1:80 -s wrrr -b sh-port\n-a -t 10.0.0.1:80 -r 10.0.1.1 -m\n-A -t 10.0.0.2:80\n-a -t 10.0.0.2:80 -r 10.0.1.1 --weight=x\n-A -t 10.0.0.3:80 --bogus\n",
			exitFailure, "", []string{
				`havsd: import: stdin:1: incompatible scheduler flag "sh-port" for scheduler "wrrr"`,
				`havsd: import: stdin:4: illegal weight "x" specified`,
				`havsd: import: stdin:5: unknown option "--bogus"`}},
		{"empty", "", exitFailure, "", []string{"havsd: import: stdin: no rules read: pipe in what `ipvsadm -Sn` (or -Ln) prints"}},
		{"comments only", "# nothing\n\n", exitFailure, "", []string{"no rules read"}},
		{"ipvsadm -Ln", "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  10.0.0.1:80 wrr\n  -> 10.0.1.1:80                  Route   3      0          0\n",
			exitOK, `real_server "10.0.1.1:80"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, tt.in, (*cli).importRules)
			if code != tt.code || !strings.Contains(out, tt.stdout) {
				t.Errorf("import: exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.code, out, errs)
			}
			if got := strings.Count(errs, "\n"); got != len(tt.stderr) {
				t.Errorf("stderr has %d lines, want %d:\n%s", got, len(tt.stderr), errs)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
		})
	}
}

// TestCheckWarnsSetupsThatCannotWork: check still says ok (they load) but
// warns about a service address no instance holds, a quorum above the sum
// of weights, and services without any VRRP instance (what import writes).
func TestCheckWarnsSetupsThatCannotWork(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"address no VIP", `vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.1/24"]
}
virtual_service "web" {
  address = "10.0.0.2:80"
  real_server "10.0.1.1:80" {}
}
virtual_service "ok" {
  address = "10.0.0.1:443"
  real_server "10.0.1.1:443" {}
}
`, []string{"Warning: Address is no instance's VIP", "cfg.hcl:7:13", "10.0.0.2 is not among the virtual addresses of any vrrp_instance"}},
		{"quorum", `vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.1/24"]
}
virtual_service "web" {
  address  = "10.0.0.1:80"
  instance = "VI_1"
  quorum   = 4
  real_server "10.0.1.1:80" { weight = 2 }
  real_server "10.0.1.2:80" {}
  sorry_server "10.0.1.9:80" {}
}
`, []string{"Warning: Quorum above the sum of weights", "cfg.hcl:9:14",
			"quorum 4 can never be met: the real servers' weights add up to 3 even when all are up, so the service always counts as down and its sorry_server takes the traffic"}},
		{"no instance", `virtual_service "web" {
  address = "10.0.0.1:80"
  real_server "10.0.1.1:80" {}
}
`, []string{"Warning: No VRRP instance", "cfg.hcl:1:17", "1 virtual service(s) but no vrrp_instance"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, "", (*cli).check, writeFile(t, "cfg.hcl", tt.text))
			if code != exitOK || !strings.Contains(out, ": ok: ") {
				t.Errorf("check: exit %d, stdout %q, want ok", code, out)
			}
			if n := strings.Count(errs, "Warning: "); n != 1 {
				t.Errorf("check printed %d warnings, want 1:\n%s", n, errs)
			}
			for _, want := range tt.want {
				if !strings.Contains(errs, want) {
					t.Errorf("check does not say %q:\n%s", want, errs)
				}
			}
		})
	}
	t.Run("imported", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "imported.hcl")
		if code, _, errs := runCmd(t, "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n", (*cli).importRules, "-o", path); code != exitOK {
			t.Fatalf("import: exit %d\n%s", code, errs)
		}
		if code, _, errs := runCmd(t, "", (*cli).check, path); code != exitOK || !strings.Contains(errs, "Warning: No VRRP instance") {
			t.Errorf("check of an imported table: exit %d, want 0 and the no-instance warning:\n%s", code, errs)
		}
	})
}

// TestHelpExitsZero: -h (and --help) answers with the usage and exit 0 for
// every command, as for havsd itself.
func TestHelpExitsZero(t *testing.T) {
	for _, cmd := range commands() {
		if cmd.summary == "" {
			continue // internal to havsd
		}
		for _, h := range []string{"-h", "--help"} {
			t.Run(cmd.name+" "+h, func(t *testing.T) {
				var out, errb bytes.Buffer
				c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
				if code := c.main(t.Context(), []string{cmd.name, h}); code != exitOK {
					t.Errorf("havsd %s %s: exit %d, want 0\n%s%s", cmd.name, h, code, out.String(), errb.String())
				}
				if !strings.Contains(strings.ToLower(out.String()+errb.String()), "usage") {
					t.Errorf("havsd %s %s printed no usage:\n%s%s", cmd.name, h, out.String(), errb.String())
				}
			})
		}
	}
}

// TestCheckDirectory: havsd check takes a conf.d directory as its argument;
// the same VRID in two files is reported with both places, and keepalived's
// top-level keywords get havsd's names there too.
func TestCheckDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-ext.hcl", `vrrp_instance "VI_EXT" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.1/24"]
}
`)
	write("20-web.hcl", `vrrp_instance "VI_WEB" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.2/24"]
}
`)
	code, _, errs := runCmd(t, "", (*cli).check, dir)
	if code != exitBadConfig || !strings.Contains(errs, "20-web.hcl:3:23") ||
		!strings.Contains(errs, `Instance "VI_EXT" already uses VRID 51 on eth0 (ipv4) at `+filepath.Join(dir, "10-ext.hcl")+":3:23") {
		t.Errorf("check of a conf.d with one VRID twice: exit %d\n%s", code, errs)
	}
	write("20-web.hcl", `virtual_server "web" {
  address = "10.0.0.1:80"
}
`)
	code, _, errs = runCmd(t, "", (*cli).check, dir)
	if code != exitBadConfig || !strings.Contains(errs, "`virtual_server` is keepalived's name: use `virtual_service") {
		t.Errorf("check of a conf.d with keepalived's virtual_server: exit %d\n%s", code, errs)
	}
	write("20-web.hcl", `virtual_service "web" {
  address  = "10.0.0.1:80"
  instance = "VI_EXT"
  real_server "10.0.1.1:80" {}
}
`)
	if code, out, errs := runCmd(t, "", (*cli).check, "-q", dir); code != exitOK || out != "" || errs != "" {
		t.Errorf("check -q of a good conf.d: exit %d\n%s%s", code, out, errs)
	}
}
