package lvs

import (
	"errors"
	"os"
	"testing"

	"github.com/havsd/havsd/test/need"
)

// TestOpenIPVSWithoutIPVS: on a kernel without IPVS, OpenIPVS says
// ErrNoIPVS (the daemon then runs VRRP and checks only); on one with IPVS
// (the VM) it opens the table, which needs root.
func TestOpenIPVSWithoutIPVS(t *testing.T) {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		need.Root(t, "opens the kernel's IPVS table")
		tbl, err := OpenIPVS("")
		if err != nil {
			t.Fatalf("OpenIPVS() on a kernel with IPVS: %v", err)
		}
		if err := tbl.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
		return
	}
	_, err := OpenIPVS("")
	if !errors.Is(err, ErrNoIPVS) {
		t.Fatalf("OpenIPVS() error = %v, want ErrNoIPVS", err)
	}
	t.Logf("message: %v", err)
}
