package lvs

import (
	"errors"
	"os"
	"testing"
)

func TestOpenIPVSWithoutIPVS(t *testing.T) {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		t.Skip("this kernel has IPVS loaded; the VM tests cover OpenIPVS")
	}
	_, err := OpenIPVS("")
	if !errors.Is(err, ErrNoIPVS) {
		t.Fatalf("OpenIPVS() error = %v, want ErrNoIPVS", err)
	}
	t.Logf("message: %v", err)
}
