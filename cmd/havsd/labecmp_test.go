package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestLabECMPUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown event", []string{"lab", "-mode", "ecmp", "-events", "handover"}, `event "handover" is not an ECMP drill event`},
		{"no VM", []string{"lab", "-mode", "ecmp", "-vm"}, "the test VM's image has no BIRD"},
		{"hold below BIRD's minimum", []string{"lab", "-mode", "ecmp", "-hold", "1s"}, "at least 3s"},
		{"no directors", []string{"lab", "-mode", "ecmp", "-directors", "0"}, "0 directors"},
		{"negative share", []string{"lab", "-mode", "ecmp", "-share", "-1"}, "-share not negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
			if code := c.main(context.Background(), tt.args); code != exitUsage {
				t.Errorf("exit code %d, want %d\n%s%s", code, exitUsage, out.String(), errb.String())
			}
			if all := out.String() + errb.String(); !strings.Contains(all, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, all)
			}
		})
	}
}
