package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/cmd/havsd/internal/control"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/director"
	"github.com/havsd/havsd/vrrp"
)

// serveControl serves h on a control socket in a temporary directory until
// the test ends and returns the socket's path.
func serveControl(t *testing.T, h control.Handler) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "havsd.sock")
	srv := control.NewServer(sock, h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ln, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(t.Context(), ln)
	return sock
}

func instances(states ...string) []director.InstanceStatus {
	var ins []director.InstanceStatus
	for i, s := range states {
		in := director.InstanceStatus{Name: "VI_" + string(rune('1'+i)), State: s}
		if s == "fault" {
			in.FaultReason = "interface eth9: no such interface"
		}
		ins = append(ins, in)
	}
	return ins
}

// TestStatusExitNoVRRP runs havsd status against a control socket whose
// director reports various instance states: exit 4 and a NOT HEALTHY line
// only when every instance is in FAULT or stopped.
func TestStatusExitNoVRRP(t *testing.T) {
	tests := []struct {
		name   string
		states []string
		code   int
	}{
		{"all fault", []string{"fault", "fault"}, exitNoVRRP},
		{"fault and stopped", []string{"fault", "stopped"}, exitNoVRRP},
		{"one backup", []string{"fault", "backup"}, exitOK},
		{"master", []string{"master"}, exitOK},
		{"starting", []string{"init"}, exitOK},
		{"no VRRP configured", nil, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := serveControl(t, func(ctx context.Context, req control.Request) (any, error) {
				return director.Status{RouterID: "d1", Instances: instances(tt.states...)}, nil
			})
			for _, args := range [][]string{{"-s", sock}, {"-s", sock, "-json"}} {
				code, _, errs := runCmd(t, "", (*cli).status, args...)
				if code != tt.code {
					t.Errorf("status %v: exit %d, want %d; stderr %q", args, code, tt.code, errs)
				}
				if bad := strings.Contains(errs, "NOT HEALTHY"); bad != (tt.code == exitNoVRRP) && args[len(args)-1] != "-json" {
					t.Errorf("status %v: stderr %q, NOT HEALTHY wanted: %v", args, errs, tt.code == exitNoVRRP)
				}
			}
		})
	}
}

// TestStatusLineNoVRRP checks that the sd_notify STATUS line leads with
// the fact when no VRRP instance runs, with each one's reason.
func TestStatusLineNoVRRP(t *testing.T) {
	st := director.Status{Instances: instances("fault", "stopped")}
	want := "NOT HEALTHY: no VRRP instance runs (VI_1 FAULT (interface eth9: no such interface), VI_2 STOPPED); VI_1 FAULT, VI_2 STOPPED; services 0/0 up"
	if got := statusLine(st); got != want {
		t.Errorf("statusLine = %q, want %q", got, want)
	}
	st = director.Status{Instances: instances("fault", "backup")}
	if got := statusLine(st); strings.Contains(got, "NOT HEALTHY") {
		t.Errorf("statusLine with a live backup = %q", got)
	}
}

// TestMissingInterfaces checks which named interfaces the host check
// reports: instance and track interfaces, once each, in config order.
func TestMissingInterfaces(t *testing.T) {
	cfg := &conf.Config{Instances: []vrrp.Config{
		{Name: "VI_B", Interface: "eth1", Track: []vrrp.TrackInterface{{Name: "lo"}, {Name: "bond0"}}},
		{Name: "VI_A", Interface: "eth1"},
		{Name: "VI_C", Interface: "lo"},
	}}
	have := map[string]bool{"lo": true}
	got := missingInterfaces(cfg, func(n string) bool { return have[n] })
	want := []string{
		`this host has no interface "eth1" (named by vrrp_instance VI_A, VI_B): it counts as down until it exists, so an instance on it stays in FAULT`,
		`this host has no interface "bond0" (named by vrrp_instance VI_B): it counts as down until it exists, so an instance on it stays in FAULT`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("missingInterfaces (-want +got):\n%s", d)
	}
}

// TestCheckHostInterfaces runs havsd check on a file naming an interface
// no host has: the warning appears with -host (and by default for the file
// havsd run reads, which is the host's own), not for a file checked
// elsewhere, so checking examples/*.hcl stays clean on any machine.
func TestCheckHostInterfaces(t *testing.T) {
	file := filepath.Join(t.TempDir(), "h.hcl")
	src := `vrrp_instance "VI_1" {
  interface         = "vfnosuch0"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["192.0.2.10/32"]
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		warn bool
	}{
		{"other file", []string{file}, false},
		{"-host", []string{"-host", file}, true},
		{"-host=false", []string{"-host=false", file}, false},
		{"-host quiet", []string{"-host", "-q", file}, false},
		{"-host on an example", []string{"-host", "../../examples/dr.hcl"}, !interfaceExists("eth0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(t, "", (*cli).check, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d, want 0; stderr %q", code, errs)
			}
			if got := strings.Contains(errs, "warning: this host has no interface"); got != tt.warn {
				t.Errorf("stderr %q: warning %v, want %v", errs, got, tt.warn)
			}
		})
	}
}
