package director

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/conf"
)

func TestLogDiagnostics(t *testing.T) {
	_, src, diags := conf.LoadBytes("bad.hcl", []byte(`vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 300
  priority          = 255
  virtual_ipaddress = ["10.0.0.1"]
}
`))
	var text bytes.Buffer
	if err := src.WriteDiagnostics(&text, diags, false); err != nil {
		t.Fatal(err)
	}
	want := []diagnostic{
		{summary: "Invalid VRID", at: "bad.hcl:3:23", detail: "virtual_router_id must be 1-255, not 300."},
		{warning: true, summary: "Priority 255", at: "bad.hcl:4:23", detail: "Priority 255 is for the router that owns the virtual addresses; havsd cannot check that at load time. A backup with 255 would preempt every master."},
	}
	if diff := cmp.Diff(want, splitDiagnostics(text.String()), cmp.AllowUnexported(diagnostic{})); diff != "" {
		t.Errorf("splitDiagnostics (-want +got):\n%s", diff)
	}
	var log bytes.Buffer
	LogDiagnostics(slog.New(slog.NewTextHandler(&log, nil)), "reload rejected", text.String())
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `level=ERROR msg="reload rejected" summary="Invalid VRID" at=bad.hcl:3:23`) ||
		!strings.Contains(lines[1], "level=WARN") {
		t.Errorf("LogDiagnostics wrote:\n%s", log.String())
	}
}
