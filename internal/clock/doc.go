// Package clock is havsd's one time source: a Clock interface with a real
// implementation on the runtime's monotonic clock, a manual Fake for tests,
// and Sleep, the one context-aware wait.
//
// Code that measures or waits takes a Clock instead of calling the time
// package, so a test can drive it step by step. Times from a Clock are only
// compared and subtracted (monotonic readings), never shown as wall time.
package clock
