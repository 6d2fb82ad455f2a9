package conf

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/havsd/havsd/test/need"
)

func TestQuorumAndNotifyHooks(t *testing.T) {
	cfg := mustLoad(t, `
virtual_service "web" {
  address     = "192.0.2.1:80"
  quorum      = 1
  quorum_up   = ["/bin/sh", "-c", "logger up"]
  quorum_down = ["sh", "-c", "logger down"]
  omega       = true
  real_server "10.0.0.1" {
    notify_up   = ["/bin/true"]
    notify_down = ["/bin/false", "x"]
  }
}`)
	vs := cfg.Services[0]
	if len(vs.QuorumDown) != 3 || vs.QuorumDown[0][0] != '/' {
		t.Errorf("quorum_down %q: the program is not resolved to an absolute path", vs.QuorumDown)
	}
	if !slices.Equal(vs.QuorumUp, []string{"/bin/sh", "-c", "logger up"}) || len(vs.Reals[0].NotifyDown) != 2 || vs.Reals[0].NotifyUp == nil {
		t.Errorf("hooks %q %q %q", vs.QuorumUp, vs.Reals[0].NotifyUp, vs.Reals[0].NotifyDown)
	}
	if !vs.Omega {
		t.Error("omega not set")
	}
	back := mustLoad(t, string(Format(cfg)))
	if b := back.Services[0]; !slices.Equal(b.QuorumDown, vs.QuorumDown) || !slices.Equal(b.Reals[0].NotifyDown, vs.Reals[0].NotifyDown) || !b.Omega {
		t.Errorf("lost by Format:\n%s", Format(cfg))
	}
}

// Instance and sync group notify commands are checked as the other
// commands are: a program another user could modify is refused with its
// location, a missing one is an error, and programs are resolved.
func TestNotifyCommandsChecked(t *testing.T) {
	need.Root(t, "changing a file's owner")
	dir := t.TempDir()
	script := filepath.Join(dir, "notify")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(script, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ipaddress = ["192.0.2.1"]
  notify {
    master  = [%q, "master"]
    generic = ["true"]
  }
}
vrrp_sync_group "G" {
  instances = ["VI_1"]
  notify {
    stop = ["/nonexistent/notify"]
  }
}
`, script)
	_, f, diags := LoadBytes("test.hcl", []byte(src))
	var b bytes.Buffer
	f.WriteDiagnostics(&b, diags, false)
	for _, want := range []string{"Error: Insecure script", "on test.hcl:6:16", "is owned by uid 65534, not root",
		"Error: Program not found", "on test.hcl:13:13"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("diagnostics lack %q:\n%s", want, b.String())
		}
	}
	if n := len(diags.Errs()); n != 2 {
		t.Errorf("%d errors, want 2:\n%s", n, b.String())
	}
	os.Chown(script, 0, 0)
	cfg, _, diags := LoadBytes("test.hcl", []byte(strings.Replace(src, "/nonexistent/notify", "/bin/true", 1)))
	if cfg == nil {
		t.Fatalf("root's notify refused: %v", diags)
	}
	if g := cfg.Instances[0].Notify.Generic; len(g) != 1 || !filepath.IsAbs(g[0]) {
		t.Errorf("generic %q: not resolved to an absolute path", g)
	}
	if m := cfg.Instances[0].Notify.Master; !slices.Equal(m, []string{script, "master"}) {
		t.Errorf("master %q", m)
	}
}
