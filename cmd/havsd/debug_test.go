package main

import (
	"strings"
	"testing"

	"github.com/havsd/havsd/cmd/havsd/internal/control"
)

func TestDebugAnswer(t *testing.T) {
	res, err := debugAnswer(control.Request{Command: "debug-runtime", GC: true})
	if err != nil {
		t.Fatal(err)
	}
	st := res.(RuntimeStats)
	if st.RSS == 0 || st.HeapInUse == 0 || st.Goroutines == 0 || st.FDs < 3 || st.GCs == 0 {
		t.Errorf("debug-runtime = %+v: a running test has memory, goroutines, stdio and a GC", st)
	}
	tests := []struct {
		name, profile string
		debug         int
		want          string // in the profile, or in the error
	}{
		{"goroutine text", "goroutine", 1, "TestDebugAnswer"},
		{"heap binary", "heap", 0, "\x1f\x8b"}, // gzipped protobuf
		{"unknown", "cpu", 0, `no profile "cpu": havsd has [allocs block goroutine heap mutex threadcreate]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := debugAnswer(control.Request{Command: "debug-pprof", Profile: tt.profile, Debug: tt.debug})
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = string(res.([]byte))
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("debug-pprof %s: got %.200q, want it to contain %q", tt.profile, got, tt.want)
			}
		})
	}
}
