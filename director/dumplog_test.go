package director

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestDumpReadable: the dump speaks the status vocabulary (no Go field
// names, no numeric codes, no nanoseconds) and LogDump writes one record
// per item.
func TestDumpReadable(t *testing.T) {
	cfg := fullExample(t)
	ds := DumpState{Config: cfg, Desired: Compute(cfg, Inputs{}).Desired,
		Status: Status{RouterID: "d1", Instances: []InstanceStatus{{Name: "VI_PUBLIC", State: "master"}},
			Services: []ServiceStatus{{Name: "web", Key: "tcp 172.25.254.100:80", Reals: []RealStatus{{Address: "192.168.0.101:80", Health: "up"}}}}}}
	b, err := json.Marshal(ds)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, bad := range []string{`"Instances"`, `"AdvertInterval"`, `"Forward":`, `"advert_interval":1000000000`, "s3cret"} {
		if strings.Contains(text, bad) {
			t.Errorf("dump holds %s", bad)
		}
	}
	for _, want := range []string{`"advert_interval":"1s"`, `"forward":"masq"`, `"desired"`, `"config"`} {
		if !strings.Contains(text, want) {
			t.Errorf("dump lacks %s", want)
		}
	}
	var buf bytes.Buffer
	LogDump(slog.New(slog.NewTextHandler(&buf, nil)), ds)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) < 10 {
		t.Errorf("LogDump wrote %d records, want one per item (many):\n%s", len(lines), buf.String())
	}
	for _, want := range []string{`item=status.instances[VI_PUBLIC] msg=`, `item=status.services[web].reals[192.168.0.101:80]`, `item=config.instances[VI_PRIVATE]`} {
		if !strings.Contains(buf.String(), strings.SplitN(want, " ", 2)[0]) {
			t.Errorf("LogDump has no record %s:\n%s", want, buf.String())
		}
	}
	for _, l := range lines {
		if len(l) > 2000 {
			t.Errorf("a LogDump record is %d bytes long:\n%.300s...", len(l), l)
		}
	}
}
