package checks

import (
	"os"
	"testing"
)

// TestMain lets the test binary double as the benchmark's server process
// (see scale_test.go), so that the servers' CPU is not charged to checks.
func TestMain(m *testing.M) {
	if os.Getenv(scaleServerEnv) != "" {
		os.Exit(scaleServer())
	}
	os.Exit(m.Run())
}
