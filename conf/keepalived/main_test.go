package keepalived

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// TestMain runs only the IPVS oracle inside the VM (HAVSD_VM=1): the VM has
// the test binary but not this package's testdata, and every other test
// runs on the host.
func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv("HAVSD_VM") == "1" && flag.Lookup("test.run").Value.String() == "" {
		fmt.Println("conf/keepalived in the VM: running only ^TestOracle; the other tests run on the host")
		_ = flag.Set("test.run", "^TestOracle")
	}
	os.Exit(m.Run())
}
