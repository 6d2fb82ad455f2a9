package track

import (
	"os"
	"testing"

	"github.com/havsd/havsd/test/leak"
)

// TestMain fails the package's tests if a goroutine outlives them.
func TestMain(m *testing.M) { os.Exit(leak.Main(m)) }
