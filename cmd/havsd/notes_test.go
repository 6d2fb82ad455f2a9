package main

import (
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/director"
)

func TestInstanceNotes(t *testing.T) {
	since := time.Date(2026, 1, 1, 5, 3, 25, 0, time.Local)
	tests := []struct {
		name string
		in   director.InstanceStatus
		want []string // substrings, one per note
	}{
		{"plain master", director.InstanceStatus{Name: "VI_1", State: "master"}, nil},
		{"missing interface", director.InstanceStatus{Name: "VI_1", State: "fault", FaultReason: "interface eth1 does not exist"},
			[]string{"FAULT: interface eth1 does not exist"}},
		{"yielding", director.InstanceStatus{Name: "VI_1", State: "backup", Yielding: &director.Yield{Since: since}},
			[]string{"BACKUP (yielding since 05:03:25 after handover; havsd resume VI_1 ends it)"}},
		{"drift and mismatch", director.InstanceStatus{Name: "VI_1", State: "master", MissingVIPs: []string{"10.0.0.100/24"},
			PeerVIPMismatch: []director.PeerMismatch{{Peer: "10.0.0.2", VIPs: []string{"10.0.0.100", "10.0.0.101"}}}},
			[]string{"lacks VIPs 10.0.0.100/24", "peer 10.0.0.2 advertises another VIP list 10.0.0.100,10.0.0.101"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := instanceNotes(tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("notes %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("note %d = %q, want %q in it", i, got[i], w)
				}
			}
		})
	}
}
