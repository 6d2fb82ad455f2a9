package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestSchedulers(t *testing.T) {
	const rel = "6.1.0-test"
	dir := "lib/modules/" + rel + "/kernel/net/netfilter/ipvs/"
	for _, tc := range []struct {
		name                string
		fsys                fstest.MapFS
		wantLoaded, wantMod []string
	}{
		{"nothing", fstest.MapFS{}, nil, nil},
		{"modules, some loaded", fstest.MapFS{
			"proc/modules":             {Data: []byte("ip_vs_wrr 12288 1 - Live 0x0\nip_vs 200704 3 ip_vs_wrr, Live 0x0\nnf_tables 1 0 - Live 0\n\n")},
			dir + "ip_vs.ko.xz":        {},
			dir + "ip_vs_rr.ko.xz":     {},
			dir + "ip_vs_wrr.ko.xz":    {},
			dir + "ip_vs_mh.ko":        {},
			dir + "ip_vs_ftp.ko.xz":    {},
			dir + "ip_vs_pe_sip.ko.xz": {},
		}, []string{"ip_vs", "wrr"}, []string{"mh", "rr"}},
		{"built in", fstest.MapFS{
			"lib/modules/" + rel + "/modules.builtin": {Data: []byte("kernel/net/netfilter/ipvs/ip_vs.ko\nkernel/net/netfilter/ipvs/ip_vs_sh.ko\nkernel/fs/ext4/ext4.ko\n")},
		}, []string{"ip_vs", "sh"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loaded, mods := schedulers(tc.fsys, rel)
			if diff := cmp.Diff(tc.wantLoaded, loaded); diff != "" {
				t.Errorf("loaded (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantMod, mods); diff != "" {
				t.Errorf("modules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb}
	if code := c.main(context.Background(), []string{"version"}); code != exitOK {
		t.Fatalf("havsd version: exit %d, stderr %s", code, errb.String())
	}
	for _, want := range []string{"havsd " + version + "\n", "go: " + runtime.Version(), "\nkernel: ", "\nipvs: ", "\nschedulers: ", "\nnftables: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := c.main(context.Background(), []string{"version", "extra"}); code != exitUsage {
		t.Errorf("havsd version extra: exit %d, want %d", code, exitUsage)
	}
}
