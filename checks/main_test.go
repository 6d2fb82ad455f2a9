package checks

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/havsd/havsd/test/leak"
)

// TestMain lets the test binary double as a child process of the
// benchmarks and load tests (see childMain), so that the servers' CPU is not
// charged to checks, and so that a checker can be paused with SIGSTOP.
// Inside the IPVS VM it runs only the TestVM* tests unless -test.run says
// otherwise: the others run on the host. A goroutine that outlives the
// tests fails them.
func TestMain(m *testing.M) {
	if code, ok := childMain(); ok {
		os.Exit(code)
	}
	flag.Parse()
	if os.Getenv("HAVSD_VM") == "1" && flag.Lookup("test.run").Value.String() == "" {
		fmt.Println("checks in the VM: running only ^TestVM; the other tests run on the host")
		_ = flag.Set("test.run", "^TestVM")
	}
	os.Exit(leak.Main(m))
}
