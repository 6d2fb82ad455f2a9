package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/cmd/havsd/internal/drill"
)

func TestStripVMFlags(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{[]string{"--vm", "-n", "2"}, []string{"-n", "2"}},
		{[]string{"-vm", "--dir", "/x", "-keep", "-events=crash"}, []string{"-events=crash"}},
		{[]string{"-vm-cache=/c", "-json", "f", "-mode", "dr"}, []string{"-mode", "dr"}},
		{[]string{"-prefix", "p-", "-state-dir", "/s", "-advert", "1s"}, []string{"-advert", "1s"}},
	}
	for _, tt := range tests {
		if got := stripVMFlags(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("stripVMFlags(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLabAndDrillUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad mode", []string{"lab", "-mode", "tun"}, exitUsage, `unknown mode "tun"`},
		{"bad director", []string{"lab", "-director", "vrrpd"}, exitUsage, `unknown director "vrrpd"`},
		{"v2 needs whole seconds", []string{"lab", "-vrrp-version", "2", "-advert", "100ms"}, exitUsage, "whole seconds"},
		{"keepalived has no handover", []string{"lab", "-director", "keepalived", "-events", "handover"}, exitUsage, "not available with keepalived"},
		{"bad target", []string{"lab", "-target", "udp://10.0.0.1:53"}, exitUsage, "scheme must be"},
		{"negative streams", []string{"lab", "-streams", "-1"}, exitUsage, "-streams must not be negative"},
		{"lab down with nothing up", []string{"lab", "down", "-prefix", "hv-lbnone-", "-state-dir", "/nonexistent-hv-lb"}, exitOK, "no lab is up"},
		{"responder needs a name", []string{"lab-responder"}, exitUsage, "usage: havsd lab-responder NAME"},
		{"drill needs a target", []string{"drill"}, exitUsage, "-target is required"},
		{"drill handover needs a socket", []string{"drill", "-target", "tcp://10.0.0.1:80"}, exitUsage, "needs -s SOCKET"},
		{"drill crash needs a command", []string{"drill", "-target", "tcp://10.0.0.1:80", "-event", "crash"}, exitUsage, "needs -exec COMMAND"},
		{"drill unknown event", []string{"drill", "-target", "icmp://10.0.0.1", "-event", "reboot"}, exitUsage, `unknown event "reboot"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
			if code := c.main(context.Background(), tt.args); code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errb.String())
			}
			if all := out.String() + errb.String(); !strings.Contains(all, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, all)
			}
		})
	}
}

// TestLabResponderIsHidden: the responder the lab starts is a subcommand, but
// not one an operator is offered.
func TestLabResponderIsHidden(t *testing.T) {
	var out bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	if code := c.main(context.Background(), []string{"help"}); code != exitOK {
		t.Fatalf("help: exit code %d", code)
	}
	if !strings.Contains(out.String(), "lab ") || strings.Contains(out.String(), "lab-responder") {
		t.Errorf("usage should list lab but not lab-responder:\n%s", out.String())
	}
}

func TestStreamsTotal(t *testing.T) {
	ok := drill.StreamResult{Survived: true}
	broken := drill.StreamResult{Err: errors.New("connection reset by peer")}
	tests := []struct {
		name string
		rs   []drill.StreamsReport
		want string
	}{
		{"all survived", []drill.StreamsReport{
			{Streams: []drill.StreamResult{ok, ok}, Survived: 2, MaxStall: 310 * time.Millisecond},
			{Streams: []drill.StreamResult{ok, ok}, Survived: 2, MaxStall: 1200400 * time.Microsecond},
		}, "established connections survived: 4/4 (longest stall 1.2s)"},
		{"some broke", []drill.StreamsReport{
			{Streams: []drill.StreamResult{ok, broken, broken}, Survived: 1, MaxStall: 5 * time.Millisecond},
			{Streams: []drill.StreamResult{ok, ok, ok}, Survived: 3, MaxStall: 40 * time.Millisecond},
		}, "established connections survived: 4/6 (longest stall 40ms)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := streamsTotal(tt.rs); got != tt.want {
				t.Errorf("streamsTotal = %q, want %q", got, tt.want)
			}
		})
	}
}
