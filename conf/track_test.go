package conf

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/test/need"
	"github.com/havsd/havsd/track"
	"github.com/havsd/havsd/vrrp"
)

const trackersHCL = `
global {
  script_user = "root"
}

vrrp_script "chk_haproxy" {
  command  = ["/bin/sh", "-c", "exit 0"]
  interval = "2s"
  timeout  = "1s"
  rise     = 2
  fall     = 3
  weight   = -50
}

vrrp_script "chk_quick" {
  command = ["true"]
  user    = "nobody"
}

track_file "maint" {
  path   = "/run/havsd/maint"
  weight = 1
}

track_process "haproxy" {
  name   = "haproxy"
  delay  = "500ms"
}

track_process "worker" {
  name       = "/usr/sbin/nginx -g daemon off;"
  match      = "args"
  quorum     = 2
  quorum_max = 8
  weight     = 5
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.1"]
  track_script "chk_haproxy" {}
  track_file "maint" {
    weight = -1
  }
  track_process "haproxy" {}
  track_interface "eth1" {
    weight = 10
  }
  track_interface "eth2" {
    weight = -20
  }
}

vrrp_instance "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  virtual_ipaddress = ["192.0.2.2"]
  track_script "chk_quick" {
    weight = 0
  }
}

vrrp_sync_group "G" {
  instances = ["VI_1", "VI_2"]
  track_process "worker" {}
}
`

func TestCompileTrackers(t *testing.T) {
	cfg := mustLoad(t, trackersHCL)
	trk := cfg.Trackers
	sh := trk.Spec.Scripts[0].Argv[0]
	wantSpec := track.Spec{
		Scripts: []track.Script{
			{Name: "chk_haproxy", Argv: []string{sh, "-c", "exit 0"}, Interval: 2 * time.Second, Timeout: time.Second, Rise: 2, Fall: 3, User: "root"},
			{Name: "chk_quick", Argv: []string{trk.Spec.Scripts[1].Argv[0]}, Interval: time.Second, Timeout: time.Second, Rise: 1, Fall: 1, User: "nobody"},
		},
		Files: []track.File{{Name: "maint", Path: "/run/havsd/maint"}},
		Processes: []track.Process{
			{Name: "haproxy", Match: "haproxy", Quorum: 1, Delay: 500 * time.Millisecond},
			{Name: "worker", Match: "/usr/sbin/nginx -g daemon off;", Args: true, Quorum: 2, QuorumMax: 8},
		},
	}
	if diff := cmp.Diff(wantSpec, trk.Spec); diff != "" {
		t.Errorf("Spec (-want +got):\n%s", diff)
	}
	for _, s := range trk.Spec.Scripts {
		if s.Argv[0] == "" || s.Argv[0][0] != '/' {
			t.Errorf("script %s: argv[0] %q is not resolved to an absolute path", s.Name, s.Argv[0])
		}
	}
	key := func(k track.Kind, n string) track.Key { return track.Key{Kind: k, Name: n} }
	wantRefs := map[string][]track.Ref{
		"VI_1": {
			{Key: key(track.KindScript, "chk_haproxy"), Weight: -50},
			{Key: key(track.KindFile, "maint"), Weight: -1},
			{Key: key(track.KindProcess, "haproxy"), Weight: 1}, // keepalived: default weight 1
			{Key: key(track.KindProcess, "worker"), Weight: 5},
		},
		"VI_2": {
			{Key: key(track.KindScript, "chk_quick"), Weight: 0},
			{Key: key(track.KindProcess, "worker"), Weight: 5},
		},
	}
	if diff := cmp.Diff(wantRefs, trk.Refs); diff != "" {
		t.Errorf("Refs (-want +got):\n%s", diff)
	}
	// Interfaces: magnitudes for the VRRP instance, signs kept here.
	wantTrack := []vrrp.TrackInterface{{Name: "eth1", Weight: 10}, {Name: "eth2", Weight: 20}}
	if diff := cmp.Diff(wantTrack, cfg.Instances[0].Track); diff != "" {
		t.Errorf("vrrp Track (-want +got):\n%s", diff)
	}
	if got := trk.Bonus("VI_1"); got != 10 {
		t.Errorf("Bonus(VI_1) = %d, want 10 (eth1's positive weight)", got)
	}
	back := mustLoad(t, string(Format(cfg)))
	if diff := cmp.Diff(cfg.Trackers, back.Trackers); diff != "" {
		t.Errorf("trackers after Format and Load (-want +got):\n%s\n%s", diff, Format(cfg))
	}
}

// A script another user could modify is refused with its location, as
// keepalived's enable_script_security does (havsd check and havsd run both
// load through here).
func TestInsecureScriptRefused(t *testing.T) {
	need.Root(t, "changing a file's owner")
	dir := t.TempDir()
	script := filepath.Join(dir, "chk")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(script, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, src, diags := LoadBytes("test.hcl", []byte(fmt.Sprintf(`
vrrp_script "chk" {
  command = [%q]
  user    = "root"
}
`, script)))
	var b bytes.Buffer
	src.WriteDiagnostics(&b, diags, false)
	for _, want := range []string{"Error: Insecure script", "on test.hcl:3:14", "is owned by uid 65534, not root"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("diagnostics lack %q:\n%s", want, b.String())
		}
	}
	os.Chown(script, 0, 0)
	if _, _, diags := LoadBytes("test.hcl", []byte(fmt.Sprintf("vrrp_script \"chk\" {\n  command = [%q]\n  user = \"root\"\n}\n", script))); diags.HasErrors() {
		t.Errorf("root's script refused: %v", diags)
	}
}
