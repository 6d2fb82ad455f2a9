// Package poll is the tests' one way to wait for a condition: poll it with
// a deadline instead of sleeping for a guessed time.
package poll

import (
	"testing"
	"time"
)

// Interval is how often Until and For evaluate their condition.
const Interval = 5 * time.Millisecond

// For polls cond until it holds or timeout passes, reporting whether it
// held. It is for callers that handle the failure themselves.
func For(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return cond()
		}
		time.Sleep(Interval)
	}
	return true
}

// Until polls cond until it holds, failing t (fatally) with "timed out
// after TIMEOUT waiting for WHAT" if it has not within timeout.
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !For(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Holds checks cond every Interval for d and returns false as soon as it
// fails: for asserting that something does not happen during a period.
func Holds(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			return false
		}
		time.Sleep(Interval)
	}
	return cond()
}
