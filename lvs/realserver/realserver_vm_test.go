package realserver

// The TUN test needs the ipip module's tunl0, which this repository's CI
// host lacks and the IPVS VM (test/vm, HAVSD_VM=1) has: run-tests.sh boots
// this package there because of this file's name.

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

func TestSetupUndoTUN(t *testing.T) {
	var noIPIP bool
	inNewNS(t, func() {
		if _, err := netlink.LinkByName("tunl0"); err != nil && os.Getenv("HAVSD_VM") != "1" {
			noIPIP = true // this kernel has no ipip module loaded; the VM's has
			return
		}
		cfg := Config{VIP: netip.MustParsePrefix("192.168.0.100/32"), Mode: ModeTUN}
		got, err := Setup(cfg)
		if err != nil {
			t.Errorf("Setup: %v", err)
			return
		}
		if len(got) == 0 || got[0] != "set tunl0 up" || got[len(got)-1] != "added 192.168.0.100/32 to tunl0" {
			t.Errorf("Setup changes: %q", got)
		}
		if v := sysctlVal(t, "tunl0", "rp_filter") + sysctlVal(t, "all", "rp_filter"); v != "00" {
			t.Errorf("rp_filter dev+all = %s, want 0 and 0", v)
		}
		if v := sysctlVal(t, "tunl0", "arp_ignore") + sysctlVal(t, "tunl0", "arp_announce"); v != "12" {
			t.Errorf("tunl0 arp_ignore+arp_announce = %s, want 1 and 2", v)
		}
		if again, err := Setup(cfg); err != nil || len(again) != 0 {
			t.Errorf("second Setup: %q, %v; want no change", again, err)
		}
		undo, err := Undo(cfg)
		if err != nil || len(undo) == 0 || undo[0] != "removed 192.168.0.100/32 from tunl0" {
			t.Errorf("Undo: %q, %v", undo, err)
		}
		if _, err := netlink.LinkByName("tunl0"); err != nil {
			t.Errorf("Undo deleted the kernel's tunl0: %v", err)
		}
		// A second wildcard ipip device cannot exist next to tunl0.
		_, err = Setup(Config{VIP: cfg.VIP, Mode: ModeTUN, Dev: "hv-lv-tun"})
		if err == nil || !strings.Contains(err.Error(), "use it (the default)") {
			t.Errorf("Setup on a new ipip device next to tunl0: %v", err)
		}
	})
	if noIPIP {
		t.Skip("this kernel has no ipip module (no tunl0); run with HAVSD_VM=1 in the VM, where it must pass")
	}
}
