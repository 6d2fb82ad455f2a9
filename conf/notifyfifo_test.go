package conf

import (
	"slices"
	"testing"
)

func TestGenericNotifyAndFIFO(t *testing.T) {
	cfg := mustLoad(t, `
global {
  notify_fifo = "/run/havsd/notify.fifo"
}
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.1"]
  notify {
    generic = ["/bin/true"]
  }
}
vrrp_sync_group "G" {
  instances = ["VI_1"]
  notify {
    generic = ["/bin/true", "group"]
  }
}`)
	if cfg.Global.NotifyFIFO != "/run/havsd/notify.fifo" ||
		!slices.Equal(cfg.Instances[0].Notify.Generic, []string{"/bin/true"}) ||
		!slices.Equal(cfg.SyncGroups[0].Notify.Generic, []string{"/bin/true", "group"}) {
		t.Fatalf("global %+v, instance notify %+v, group notify %+v", cfg.Global, cfg.Instances[0].Notify, cfg.SyncGroups[0].Notify)
	}
	back := mustLoad(t, string(Format(cfg)))
	if back.Global.NotifyFIFO != cfg.Global.NotifyFIFO || !slices.Equal(back.Instances[0].Notify.Generic, cfg.Instances[0].Notify.Generic) {
		t.Errorf("lost by Format:\n%s", Format(cfg))
	}
}
