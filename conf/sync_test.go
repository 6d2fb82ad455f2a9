package conf

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/havsd/havsd/lvs"
)

func TestIPVSSync(t *testing.T) {
	const inst = `
vrrp_instance "VI_1" {
  interface         = "lo"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.100/24"]
}
`
	for _, tc := range []struct {
		name, block string
		want        *IPVSSync
	}{
		{"none", "", nil},
		{"keepalived's defaults: sync id from the instance's VRID", `ipvs_sync {
  interface = "lo"
  instance  = "VI_1"
}`, &IPVSSync{Interface: "lo", Instance: "VI_1", SyncID: 51}},
		{"everything", `ipvs_sync {
  interface           = "lo"
  instance            = "VI_1"
  sync_id             = 0
  port                = 9000
  ttl                 = 2
  group               = "239.1.1.1"
  max_len             = 1400
  sync_version        = 1
  sync_period         = 100
  sync_refresh_period = "10s"
  sync_retries        = 2
  sync_ports          = 4
}`, &IPVSSync{Interface: "lo", Instance: "VI_1", SyncID: 0, Port: 9000, TTL: 2, Group: netip.MustParseAddr("239.1.1.1"), MaxLen: 1400,
			Sysctls: []Sysctl{{"net.ipv4.vs.sync_version", "1"}, {"net.ipv4.vs.sync_threshold", "3 100"},
				{"net.ipv4.vs.sync_refresh_period", "10"}, {"net.ipv4.vs.sync_retries", "2"}, {"net.ipv4.vs.sync_ports", "4"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := inst
			if tc.block != "" {
				src += "global {\n" + tc.block + "\n}\n"
			}
			cfg, _, diags := LoadBytes("sync.hcl", []byte(src))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			addrs := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
			if diff := cmp.Diff(tc.want, cfg.Global.Sync, addrs); diff != "" {
				t.Errorf("Global.Sync (-want +got):\n%s", diff)
			}
			again, _, diags := LoadBytes("formatted.hcl", Format(cfg))
			if diags.HasErrors() {
				t.Fatalf("%s\n%s", diags.Error(), Format(cfg))
			}
			if diff := cmp.Diff(cfg.Global.Sync, again.Global.Sync, addrs); diff != "" {
				t.Errorf("Load(Format(cfg)) (-want +got):\n%s", diff)
			}
		})
	}
	d := (&IPVSSync{Interface: "eth1", SyncID: 51}).Daemons()
	if len(d) != 2 || d[0].Role != lvs.SyncMaster || d[1].Role != lvs.SyncBackup || d[1].SyncID != 51 {
		t.Errorf("Daemons() = %v", d)
	}
}

func TestDiffIPVSSync(t *testing.T) {
	a := &Config{Global: Global{Sync: &IPVSSync{Interface: "eth1", SyncID: 51}}}
	b := &Config{Global: Global{Sync: &IPVSSync{Interface: "eth1", SyncID: 52}}}
	if ch := Diff(a, b); len(ch.Global) != 1 || ch.Global[0] != "ipvs_sync" {
		t.Errorf("Diff: %+v", ch)
	}
	if ch := Diff(a, a); len(ch.Global) != 0 {
		t.Errorf("Diff of the same: %+v", ch)
	}
}
