// Package leak fails a package's tests when a goroutine outlives them: the
// thing that starts a goroutine stops it and waits for it, so after the last
// test (or after one test and its cleanups) only the runtime's and the test
// framework's own goroutines may remain.
package leak

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Wait is how long Main and Check wait for goroutines that are ending.
const Wait = 5 * time.Second

// Main runs the package's tests and then fails the binary (exit 1) if any
// goroutine is still running after Wait. Call it from TestMain as
// os.Exit(leak.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	if err := Find(Wait, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// Check fails t if goroutines started during the test are still running
// Wait after it and its cleanups ended. Call it first in the test, so that
// its cleanup runs last. It must not be used in parallel tests.
func Check(t testing.TB) {
	t.Helper()
	before := map[string]bool{}
	for _, g := range Others() {
		before[goid(g)] = true
	}
	t.Cleanup(func() {
		if err := Find(Wait, before); err != nil {
			t.Error(err)
		}
	})
}

// Find waits up to d for every goroutine other than the caller's (and those
// whose IDs are in ignore) to end; it returns their stacks if some remain.
func Find(d time.Duration, ignore map[string]bool) error {
	deadline := time.Now().Add(d)
	for {
		var left []string
		for _, g := range Others() {
			if !ignore[goid(g)] {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("FAIL: %d goroutine(s) leaked by the tests:\n\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Others returns the stacks of the running goroutines other than the
// caller's, leaving out the runtime's and the test framework's own.
func Others() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 || ignored(string(g)) {
			continue
		}
		out = append(out, string(g))
	}
	return out
}

// ignored says whether a goroutine belongs to the runtime or the test
// framework rather than to the code under test.
func ignored(s string) bool {
	switch {
	case strings.Contains(s, "testing.(*M)."),
		strings.Contains(s, "testing.tRunner.func") && strings.Contains(s, "chan receive"),
		strings.Contains(s, "testing.(*T).Run("),
		strings.Contains(s, "testing.runTests"),
		strings.Contains(s, "runtime.goexit0"),
		strings.Contains(s, "signal.signal_recv"),
		strings.Contains(s, "runtime.ensureSigM"),
		strings.Contains(s, "runtime/trace.Start"),
		strings.Contains(s, "testing.(*F)."):
		return true
	}
	return false
}

// goid returns the "goroutine N" header of a stack.
func goid(stack string) string {
	if i := strings.Index(stack, " ["); i > 0 {
		return stack[:i]
	}
	return stack
}
