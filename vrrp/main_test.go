package vrrp

import (
	"os"
	"testing"

	"github.com/havsd/havsd/test/leak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// goroutine an instance starts (loop helpers, readers, watchers, bursts,
// notifier, event forwarder) must end with its Run.
func TestMain(m *testing.M) { os.Exit(leak.Main(m)) }
