package checks

import (
	"os"
	"testing"
)

// TestMain lets the test binary double as a child process of the
// benchmarks and load tests (see childMain), so that the servers' CPU is not
// charged to checks, and so that a checker can be paused with SIGSTOP.
func TestMain(m *testing.M) {
	if code, ok := childMain(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
