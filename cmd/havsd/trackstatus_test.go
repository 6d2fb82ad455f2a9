package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/havsd/havsd/director"
)

func TestWriteTrackers(t *testing.T) {
	var b bytes.Buffer
	writeTrackers(&b, director.Status{Trackers: []director.TrackerStatus{
		{Kind: "vrrp_script", Name: "chk", State: "failed", Last: "exit 1 in 2ms", UsedBy: []director.TrackerUse{{Instance: "VI_1", Weight: -50, Delta: -50}}},
		{Kind: "track_process", Name: "web", State: "failed", UsedBy: []director.TrackerUse{{Instance: "VI_1", Fault: true}}},
	}})
	for _, want := range []string{"Trackers", `vrrp_script "chk"`, "FAILED", "VI_1 -50", "exit 1 in 2ms", `track_process "web"`, "VI_1 FAULT"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	writeTrackers(&b, director.Status{})
	if b.Len() != 0 {
		t.Errorf("no trackers printed %q", b.String())
	}
}
