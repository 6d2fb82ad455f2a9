package keepalived

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/test/need"
)

// The IPVS oracle: keepalived (checker only) runs each configuration below
// with every real server answering its checks, and its IPVS table
// (ipvsadm -Sn) is recorded; then havsd's reconciler programs the table of
// the converted configuration. The two tables must be equal. It runs in the
// VM (the host kernel has no IPVS): HAVSD_VM_PKGS=./conf/keepalived
// test/vm/run-tests.sh -test.run Oracle.

// oracleReals are the real servers' addresses, put on a dummy link; each
// answers TCP and HTTP on the ports the configurations use.
var oracleReals = []string{"10.77.1.1", "10.77.1.2", "10.77.1.3", "fd77::11", "fd77::12"}

var oracleConfs = map[string]string{
	"nat weights persistence": `global_defs {
    router_id oracle
}
virtual_server 10.77.0.1 80 {
    delay_loop 3
    lb_algo wrr
    lb_kind NAT
    persistence_timeout 120
    protocol TCP
    real_server 10.77.1.1 8080 {
        weight 3
        TCP_CHECK {
            connect_timeout 2
        }
    }
    real_server 10.77.1.2 8080 {
        weight 1
        uthreshold 100
        lthreshold 10
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
        }
    }
    real_server 10.77.1.3 8080 {
        weight 0
    }
}
virtual_server 10.77.0.1 443 {
    # no protocol: keepalived makes it UDP
    lvs_sched sh
    sh-port
    sh-fallback
    persistence_timeout
    real_server 10.77.1.1 8443 {
        TCP_CHECK {
        }
    }
}
`,
	"dr fwmark granularity udp": `virtual_server 10.77.0.2 80 {
    protocol TCP
    lvs_sched wlc
    lvs_method DR
    persistence_timeout 600
    persistence_granularity 255.255.255.0
    real_server 10.77.1.1 80 {
        weight 2
        TCP_CHECK {
        }
    }
    real_server 10.77.1.2 80 {
        weight 5
        TCP_CHECK {
            connect_port 8080
        }
    }
}
virtual_server fwmark 77 {
    lvs_sched rr
    lvs_method DR
    persistence_timeout 300
    real_server 10.77.1.1 0 {
        weight 1
    }
    real_server 10.77.1.3 0 {
        weight 4
    }
}
virtual_server 10.77.0.3 53 {
    protocol UDP
    lvs_sched lc
    lvs_method TUN
    real_server 10.77.1.2 53 {
    }
    real_server 10.77.1.3 53 {
        weight 7
    }
}
`,
	"virtual_server_group": `virtual_server_group G {
    10.77.0.5 80
    10.77.0.6-7 8080
    fwmark 78
}
virtual_server group G {
    protocol TCP
    lvs_sched wrr
    persistence_timeout 30
    real_server 10.77.1.1 80 {
        weight 2
        TCP_CHECK {
        }
    }
    real_server 10.77.1.2 8080 {
        weight 3
    }
}
`,
	"ipv6": `virtual_server fd77::1 80 {
    protocol TCP
    lvs_sched rr
    persistence_timeout 60
    persistence_granularity 64
    real_server fd77::11 80 {
        TCP_CHECK {
        }
    }
    real_server fd77::12 80 {
        weight 9
    }
}
`,
}

func TestOracleIPVS(t *testing.T) {
	if os.Getenv("HAVSD_VM") != "1" {
		t.Skip("needs the IPVS VM (HAVSD_VM=1): HAVSD_VM_PKGS=./conf/keepalived test/vm/run-tests.sh; the host kernel has no IPVS")
	}
	ka := findBin(t, "keepalived", "/usr/sbin/keepalived")
	ipvsadm := findBin(t, "ipvsadm", "/sbin/ipvsadm", "/usr/sbin/ipvsadm")
	ipCmd := findBin(t, "ip", "/sbin/ip", "/bin/ip")
	oracleLink(t, ipCmd)
	tbl, err := lvs.OpenIPVS("")
	if err != nil {
		t.Fatalf("opening IPVS: %v", err)
	}
	names := make([]string, 0, len(oracleConfs))
	for n := range oracleConfs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			text := oracleConfs[name]
			run(t, ipvsadm, "-C")
			want := keepalivedTable(t, ka, ipvsadm, text)
			run(t, ipvsadm, "-C")
			got := havsdTable(t, tbl, ipvsadm, text)
			run(t, ipvsadm, "-C")
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("havsd's table differs from keepalived's (-keepalived +havsd):\n%s", d)
			}
			t.Logf("keepalived and havsd programmed the same %d lines:\n%s", len(want), strings.Join(want, "\n"))
		})
	}
}

func findBin(t *testing.T, name string, paths ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	need.Missing(t, "needs "+name+" in the VM image (test/vm/setup.sh extra_bins)")
	return ""
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// oracleLink puts the real servers' addresses on a dummy link and serves
// TCP and HTTP on them, so that keepalived's checks pass.
func oracleLink(t *testing.T, ipCmd string) {
	t.Helper()
	run(t, ipCmd, "link", "add", "imreal", "type", "dummy")
	t.Cleanup(func() { _ = exec.Command(ipCmd, "link", "del", "imreal").Run() })
	for _, a := range oracleReals {
		bits := "/32"
		extra := []string{}
		if strings.Contains(a, ":") {
			bits, extra = "/128", []string{"nodad"}
		}
		run(t, ipCmd, append([]string{"addr", "add", a + bits, "dev", "imreal"}, extra...)...)
	}
	run(t, ipCmd, "link", "set", "imreal", "up")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })}
	t.Cleanup(func() { _ = srv.Close() })
	for _, a := range oracleReals {
		for _, port := range []string{"80", "8080", "8443"} {
			ln, err := net.Listen("tcp", net.JoinHostPort(a, port))
			if err != nil {
				t.Fatalf("listening on %s:%s: %v", a, port, err)
			}
			go func() { _ = srv.Serve(ln) }()
		}
	}
}

// keepalivedTable runs keepalived's checker on text until its table holds
// every real server and stays so, and returns that table.
func keepalivedTable(t *testing.T, ka, ipvsadm, text string) []string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	wantReals := 0
	p, diags := Parse(path, Options{})
	if p == nil {
		t.Fatalf("parse: %v", diags)
	}
	res, _ := Convert(p)
	for _, s := range res.Config.Services {
		wantReals += len(s.Reals)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, ka, "--check", "-n", "-l", "-D", "-f", path,
		"-p", filepath.Join(dir, "k.pid"), "-c", filepath.Join(dir, "c.pid"))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting keepalived: %v", err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("keepalived's log:\n%s", log.String())
		}
	}()
	var last []string
	stable := 0
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		cur := normalise(run(t, ipvsadm, "-Sn"))
		reals := 0
		for _, l := range cur {
			if strings.HasPrefix(l, "-a ") {
				reals++
			}
		}
		if reals == wantReals && slices.Equal(cur, last) {
			stable++
			if stable >= 3 {
				return cur
			}
		} else {
			stable = 0
		}
		last = cur
		time.Sleep(time.Second)
	}
	t.Fatalf("keepalived's table never settled with %d real servers; last:\n%s", wantReals, strings.Join(last, "\n"))
	return nil
}

// havsdTable converts text, loads the result as havsd would, programs its
// table (every real server up) through havsd's reconciler and returns what
// the kernel holds.
func havsdTable(t *testing.T, tbl lvs.Table, ipvsadm, text string) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := Parse(path, Options{})
	if p == nil {
		t.Fatalf("parse: %v", diags)
	}
	res, diags := Convert(p)
	if diags.LeftOut() {
		t.Fatalf("the oracle's configurations convert completely: %v", diags)
	}
	cfg, _, ld := conf.LoadBytes("converted.hcl", res.HCL())
	if cfg == nil {
		t.Fatalf("havsd refuses the conversion: %v\n%s", ld, res.HCL())
	}
	var svcs []lvs.Service
	for _, vs := range cfg.Services {
		s := vs.Service
		for _, r := range vs.Reals {
			s.Destinations = append(s.Destinations, r.Dest)
		}
		svcs = append(svcs, s)
	}
	rec := lvs.NewReconciler(tbl, lvs.ReconcilerOptions{Interval: -1})
	rec.SetDesired(lvs.Desired{Services: svcs})
	if _, err := rec.Reconcile(context.Background()); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	return normalise(run(t, ipvsadm, "-Sn"))
}

// normalise sorts ipvsadm -Sn output: services by their line, each
// followed by its real servers sorted (the kernel's order is its hash's).
func normalise(s string) []string {
	type block struct {
		svc   string
		reals []string
	}
	var bs []block
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		l = strings.Join(strings.Fields(l), " ")
		switch {
		case strings.HasPrefix(l, "-A "):
			bs = append(bs, block{svc: l})
		case strings.HasPrefix(l, "-a ") && len(bs) > 0:
			bs[len(bs)-1].reals = append(bs[len(bs)-1].reals, l)
		}
	}
	slices.SortFunc(bs, func(a, b block) int { return strings.Compare(a.svc, b.svc) })
	var out []string
	for _, b := range bs {
		slices.Sort(b.reals)
		out = append(out, b.svc)
		out = append(out, b.reals...)
	}
	return out
}
