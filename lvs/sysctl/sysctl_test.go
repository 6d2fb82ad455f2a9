package sysctl

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/havsd/havsd/lvs"
)

func TestNeeds(t *testing.T) {
	masq := func(a string) lvs.Destination {
		return lvs.Destination{Addr: netip.MustParseAddr(a), Port: 80, Weight: 1, Forward: lvs.Masq}
	}
	route := lvs.Destination{Addr: netip.MustParseAddr("10.0.0.2"), Port: 80, Weight: 1, Forward: lvs.Route}
	tests := []struct {
		name string
		svcs []lvs.Service
		snat []lvs.SNATRule
		want []string
	}{
		{"DR needs nothing", []lvs.Service{{Destinations: []lvs.Destination{route}}}, nil, nil},
		{"NAT", []lvs.Service{{Destinations: []lvs.Destination{masq("10.0.0.1"), route}}}, nil, []string{"net.ipv4.ip_forward=1"}},
		{"NAT over IPv6", []lvs.Service{{Destinations: []lvs.Destination{masq("2001:db8::1")}}}, nil, []string{"net.ipv6.conf.all.forwarding=1"}},
		{"full-NAT", []lvs.Service{{Destinations: []lvs.Destination{masq("10.0.0.1")}}}, []lvs.SNATRule{{}}, []string{"net.ipv4.ip_forward=1", "net.ipv4.vs.conntrack=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, n := range Needs(tt.svcs, tt.snat) {
				got = append(got, n.Key+"="+n.Want)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Needs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	root := t.TempDir()
	write := func(key, v string) {
		p := filepath.Join(root, strings.ReplaceAll(key, ".", "/"))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	needs := []Need{
		{Key: "net.ipv4.ip_forward", Want: "1", Why: "NAT"},
		{Key: "net.ipv4.vs.conntrack", Want: "1", Why: "full-NAT"},
	}
	write("net.ipv4.ip_forward", "0")

	got := Check(root, needs, false)
	if got[0].OK() || got[0].Changed || got[0].Have != "0" {
		t.Errorf("report only: %+v", got[0])
	}
	if got[1].Err == nil || !strings.Contains(got[1].String(), "module loaded") {
		t.Errorf("missing sysctl: %v", got[1])
	}
	t.Logf("%s\n%s", got[0], got[1])

	write("net.ipv4.vs.conntrack", "0")
	got = Check(root, needs, true)
	for _, f := range got {
		if !f.OK() || !f.Changed {
			t.Errorf("set: %v", f)
		}
	}
	got = Check(root, needs, true)
	for _, f := range got {
		if !f.OK() || f.Changed || f.String() != f.Key+" is 1 as "+f.Why+" needs" {
			t.Errorf("second pass: %v", f)
		}
	}
}

// TestCheckMultiValued: net.ipv4.vs.sync_threshold reads "3\t50"; the
// configured "3 50" is the same value and is not written again.
func TestCheckMultiValued(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "net/ipv4/vs/sync_threshold")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("3\t50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	need := []Need{{Key: "net.ipv4.vs.sync_threshold", Want: "3 50", Why: "ipvs_sync"}}
	if f := Check(root, need, true)[0]; f.Changed || !f.OK() {
		t.Errorf("same value: %+v", f)
	}
	need[0].Want = "1 50"
	if f := Check(root, need, true)[0]; !f.Changed || f.Have != "3 50" {
		t.Errorf("new value: %+v", f)
	}
}
