package main

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// TestMain narrows the run inside the IPVS VM to the TestVM* tests: the
// others read examples/ and testdata/, which exist on the host (where they
// run) but not in the VM's initramfs.
func TestMain(m *testing.M) {
	if os.Getenv(execHavsdEnv) == "1" { // a VM test runs this binary as havsd (sync_vm_test.go)
		os.Exit(runAsHavsd(os.Args[1:]))
	}
	flag.Parse()
	if os.Getenv("HAVSD_VM") == "1" && flag.Lookup("test.run").Value.String() == "" {
		fmt.Println("cmd/havsd in the VM: running only ^TestVM; the other tests need the checkout's files and run on the host")
		_ = flag.Set("test.run", "^TestVM")
	}
	os.Exit(m.Run())
}
