package vrrp

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// goroutine an instance starts (loop helpers, readers, watchers, bursts,
// notifier, event forwarder) must end with its Run.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := checkLeaks(5 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkLeaks waits up to d for every goroutine but this one to end.
func checkLeaks(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		left := otherGoroutines()
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("FAIL: %d goroutine(s) leaked by the tests:\n\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// otherGoroutines returns the stacks of the goroutines other than the
// caller's, ignoring the runtime's and the test framework's own.
func otherGoroutines() []string {
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
		s := string(g)
		if i == 0 || strings.Contains(s, "testing.(*M).") || strings.Contains(s, "testing.tRunner.func") && strings.Contains(s, "chan receive") ||
			strings.Contains(s, "runtime.goexit0") || strings.Contains(s, "signal.signal_recv") {
			continue
		}
		out = append(out, s)
	}
	return out
}
