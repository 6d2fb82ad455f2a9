package leak

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestFind(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { <-stop; close(done) }()
	err := Find(50*time.Millisecond, nil)
	if err == nil || !strings.Contains(err.Error(), "1 goroutine(s) leaked") {
		t.Fatalf("a blocked goroutine: Find = %v, want a leak of 1", err)
	}
	close(stop)
	<-done
	if err := Find(time.Second, nil); err != nil {
		t.Fatalf("after the goroutine ended: %v", err)
	}
}

func TestCheckIgnoresEarlierGoroutines(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { <-stop; close(done) }()
	t.Cleanup(func() { close(stop); <-done })
	t.Run("clean", func(t *testing.T) { Check(t) })
}

func TestMain(m *testing.M) { os.Exit(Main(m)) }
