//go:build !linux

package checks

// childMain: the child processes of the load tests run on Linux only.
func childMain() (int, bool) { return 0, false }
