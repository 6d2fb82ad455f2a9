package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/control"
	"github.com/havsd/havsd/director"
	"github.com/havsd/havsd/test/poll"
)

// TestVMDaemonReloads runs the whole daemon against the VM kernel's IPVS:
// the table is programmed, an unchanged reload writes nothing, a reload that
// adds a service writes that service and its real server only, an
// `ipvsadm -C` is repaired, and stopping leaves the table for a warm restart.
func TestVMDaemonReloads(t *testing.T) {
	if os.Getenv("HAVSD_VM") != "1" {
		t.Skip("needs the IPVS VM (HAVSD_VM=1): run test/vm/run-tests.sh; the host kernel has no IPVS")
	}
	sh := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	sh("/sbin/ip", "link", "add", "hvdvm0", "type", "veth", "peer", "name", "hvdvm1")
	t.Cleanup(func() { _ = exec.Command("/sbin/ip", "link", "del", "hvdvm0").Run() })
	sh("/sbin/ip", "addr", "add", "10.50.0.1/24", "dev", "hvdvm0")
	sh("/sbin/ip", "link", "set", "hvdvm0", "up")
	sh("/sbin/ip", "link", "set", "hvdvm1", "up")

	dir := t.TempDir()
	sock := filepath.Join(dir, "havsd.sock")
	file := filepath.Join(dir, "havsd.hcl")
	base := fmt.Sprintf(`global {
  control_socket     = %q
  reconcile_interval = "1s"
}

vrrp_instance "VI_1" {
  interface         = "hvdvm0"
  virtual_router_id = 51
  priority          = 150
  version           = 3
  advert_interval   = "100ms"
  virtual_ipaddress = ["10.50.0.100/24"]
}

virtual_service "web" {
  protocol  = "tcp"
  address   = "10.50.0.100:80"
  scheduler = "rr"
  real_server "10.50.0.11:80" {}
  real_server "10.50.0.12:80" { weight = 2 }
}
`, sock)
	tls := `
virtual_service "tls" {
  protocol  = "tcp"
  address   = "10.50.0.100:443"
  scheduler = "wrr"
  real_server "10.50.0.11:443" {}
}
`
	if err := os.WriteFile(file, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan int, 1)
	c := &cli{stdin: strings.NewReader(""), stdout: &logs, stderr: &logs}
	go func() { done <- c.main(ctx, []string{"run", "-f", file}) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs.String())
		}
	})

	status := func() director.Status {
		t.Helper()
		res, err := control.Call(context.Background(), sock, control.Request{Command: "status"})
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		var st director.Status
		if err := json.Unmarshal(res, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		if !poll.For(20*time.Second, cond) {
			t.Fatalf("timed out waiting for %s\nipvsadm -Sn:\n%s", what, sh("ipvsadm", "-Sn"))
		}
	}
	saved := func() string { return sh("ipvsadm", "-Sn") }
	wait("the control socket", func() bool { _, err := os.Stat(sock); return err == nil })
	wait("web programmed", func() bool { return strings.Contains(saved(), "-r 10.50.0.12:80 -m -w 2") })
	wait("master", func() bool { st := status(); return len(st.Instances) == 1 && st.Instances[0].State == "master" })

	reload := func() director.ReloadStatus {
		t.Helper()
		res, err := control.Call(context.Background(), sock, control.Request{Command: "reload"})
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
		var rs director.ReloadStatus
		_ = json.Unmarshal(res, &rs)
		return rs
	}
	settle := func() uint64 { // ops after two more periodic passes
		t.Helper()
		runs := status().IPVS.Reconciles
		wait("two more passes", func() bool { return status().IPVS.Reconciles >= runs+2 })
		return status().IPVS.Ops
	}
	before := settle()
	if rs := reload(); rs.Summary != "no change" {
		t.Errorf("unchanged reload summary %q", rs.Summary)
	}
	if after := settle(); after != before {
		t.Errorf("an unchanged reload caused %d IPVS writes, want 0", after-before)
	}

	if err := os.WriteFile(file, []byte(base+tls), 0o644); err != nil {
		t.Fatal(err)
	}
	before = settle()
	rs := reload()
	t.Logf("reload adding a service: %s", rs.Summary)
	wait("tls programmed", func() bool { return strings.Contains(saved(), "-a -t 10.50.0.100:443 -r 10.50.0.11:443 -m -w 1") })
	if n := settle() - before; n != 2 {
		t.Errorf("a reload adding one service with one real server caused %d writes, want 2", n)
	}

	sh("ipvsadm", "-C")
	wait("ipvsadm -C repaired", func() bool {
		s := saved()
		return strings.Contains(s, "-r 10.50.0.12:80 -m -w 2") && strings.Contains(s, "10.50.0.100:443")
	})

	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("havsd run exited %d after a graceful stop", code)
	}
	done <- exitOK // for the cleanup
	if s := saved(); !strings.Contains(s, "10.50.0.100:80") {
		t.Errorf("stopping removed the IPVS table (warm restarts need it):\n%s", s)
	}
	sh("ipvsadm", "-C")
}
