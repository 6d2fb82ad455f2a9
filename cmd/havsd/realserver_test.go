package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/havsd/havsd/test/need"
)

func TestRealserverUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{nil, exitUsage, "usage: havsd realserver"},
		{[]string{"--vip", "10.0.0.1"}, exitUsage, "usage"},
		{[]string{"--vip", "nonsense", "--mode", "dr"}, exitUsage, "--vip"},
		{[]string{"--vip", "10.0.0.1", "--mode", "nat"}, exitUsage, `unknown mode "nat"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			c := &cli{stdout: &out, stderr: &errb}
			if code := c.realserver(context.Background(), tt.args); code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if !strings.Contains(errb.String(), tt.err) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.err)
			}
		})
	}
}

func TestRealserverInNamespace(t *testing.T) {
	need.Root(t, "runs the command in a network namespace it creates")
	var outs []string
	var codes []int
	state := t.TempDir()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with the namespace
		ns, err := netns.New()
		if err != nil {
			t.Errorf("creating a network namespace: %v", err)
			return
		}
		defer ns.Close()
		for _, args := range [][]string{
			{"--vip", "192.168.0.100", "--mode", "dr"},
			{"--vip", "192.168.0.100/32", "--mode", "dr"},
			{"--vip", "192.168.0.100", "--mode", "dr", "--undo"},
		} {
			var out, errb bytes.Buffer
			c := &cli{stdout: &out, stderr: &errb}
			codes = append(codes, c.realserver(context.Background(), append(args, "--state", state)))
			outs = append(outs, out.String()+errb.String())
		}
	}()
	<-done
	if len(codes) != 3 {
		return
	}
	for i, code := range codes {
		if code != exitOK {
			t.Errorf("run %d: exit %d: %s", i, code, outs[i])
		}
	}
	if !strings.Contains(outs[0], "added 192.168.0.100/32 to lo") {
		t.Errorf("first run: %q", outs[0])
	}
	if outs[1] != "nothing to do: dr real server for 192.168.0.100/32 already set up\n" {
		t.Errorf("second run: %q", outs[1])
	}
	if !strings.Contains(outs[2], "removed 192.168.0.100/32 from lo") {
		t.Errorf("undo: %q", outs[2])
	}
}
