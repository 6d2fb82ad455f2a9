// Package need lets a test say what it needs from the machine (root, a
// binary): where that is missing the test skips and says why, except in CI
// (CI set, as .ci/run runs), where a missing need fails the test instead.
package need

import (
	"os"
	"os/exec"
	"testing"
)

// Root requires root; doing says what for, e.g. "creates network namespaces".
func Root(t testing.TB, doing string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root: "+doing)
	}
}

// Binaries requires each named program on PATH.
func Binaries(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			Missing(t, "needs the "+n+" binary on PATH")
		}
	}
}

// Missing skips the test for the reason given, or fails it in CI.
func Missing(t testing.TB, why string) {
	t.Helper()
	if ci := os.Getenv("CI"); ci != "" && ci != "false" {
		t.Fatal(why + " (CI must provide it)")
		return
	}
	t.Skip(why)
}
