package conf

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/track"
	"github.com/havsd/havsd/vrrp"
)

// keepalived's "weight N reverse", init_fail and param_match: parsed,
// resolved into the instances' tracker uses and kept by Format.
func TestReverseInitFailParamMatch(t *testing.T) {
	cfg := mustLoad(t, `
global {
  script_user = "root"
}
vrrp_script "chk" {
  command   = ["/bin/true"]
  weight    = 10
  reverse   = true
  init_fail = true
  rise      = 2
}
track_file "maint" {
  path    = "/run/havsd/maint"
  reverse = true
}
track_process "haproxy" {
  name        = "/usr/sbin/haproxy -f /etc/haproxy"
  match       = "args"
  param_match = "initial"
}
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.1"]
  track_script "chk" {}
  track_file "maint" {
    weight = 2
  }
  track_process "haproxy" {
    weight  = -5
    reverse = true
  }
  track_interface "eth1" {
    weight  = 10
    reverse = true
  }
  track_interface "eth2" {
    weight  = -20
    reverse = true
  }
}
vrrp_instance "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  virtual_ipaddress = ["192.0.2.2"]
  track_script "chk" {
    reverse = false
  }
}
`)
	trk := cfg.Trackers
	key := func(k track.Kind, n string) track.Key { return track.Key{Kind: k, Name: n} }
	want := map[string][]track.Ref{
		"VI_1": {
			{Key: key(track.KindScript, "chk"), Weight: 10, Reverse: true, InitFail: true},
			{Key: key(track.KindFile, "maint"), Weight: 2, Reverse: true}, // the tracker's reverse, the use's weight
			{Key: key(track.KindProcess, "haproxy"), Weight: -5, Reverse: true},
		},
		"VI_2": {{Key: key(track.KindScript, "chk"), Weight: 10, InitFail: true}},
	}
	if d := cmp.Diff(want, trk.Refs); d != "" {
		t.Errorf("Refs (-want +got):\n%s", d)
	}
	if s := trk.Spec.Scripts[0]; !s.InitFail || s.Rise != 2 {
		t.Errorf("script %+v: init_fail lost", s)
	}
	if p := trk.Spec.Processes[0]; p.ParamMatch != track.ParamInitial || !p.Args {
		t.Errorf("process %+v: param_match lost", p)
	}
	// Reversed interfaces: eth1 (+10 reverse) takes 10 off while up and
	// nothing while down; eth2 (-20 reverse) adds 20 while down.
	if d := cmp.Diff([]vrrp.TrackInterface{{Name: "eth1", Weight: -10}, {Name: "eth2", Weight: -20}}, cfg.Instances[0].Track); d != "" {
		t.Errorf("vrrp Track (-want +got):\n%s", d)
	}
	if b := trk.Bonus("VI_1"); b != -10 {
		t.Errorf("Bonus = %d, want -10", b)
	}
	// Priority with both links up: bonus -10; eth1 down: -10 - (-10) = 0;
	// eth2 down: -10 - (-20) = +10.
	back := mustLoad(t, string(Format(cfg)))
	if d := cmp.Diff(cfg.Trackers, back.Trackers); d != "" {
		t.Errorf("after Format and Load (-want +got):\n%s\n%s", d, Format(cfg))
	}
	if d := cmp.Diff(cfg.Instances[0].Track, back.Instances[0].Track); d != "" {
		t.Errorf("track_interface after Format (-want +got):\n%s", d)
	}
}

func TestReverseParamMatchErrors(t *testing.T) {
	_, src, diags := LoadBytes("t.hcl", []byte(`track_process "p" {
  name        = "haproxy"
  param_match = "partial"
}
track_process "q" {
  name        = "haproxy -f x"
  match       = "args"
  param_match = "prefix"
}
vrrp_script "s" {
  command   = ["/bin/true"]
  init_fail = "yes"
}
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.1"]
  track_interface "eth1" {
    reverse = true
  }
}
`))
	var b bytes.Buffer
	src.WriteDiagnostics(&b, diags, false)
	for _, w := range []string{
		"param_match without match = \"args\"", "on t.hcl:3:17",
		"on t.hcl:8:17", `"prefix"`,
		"on t.hcl:12:15", "true or false",
		"reverse with weight 0", "on t.hcl:19:15",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("diagnostics lack %q:\n%s", w, b.String())
		}
	}
}
