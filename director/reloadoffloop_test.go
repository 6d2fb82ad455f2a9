package director

import (
	"context"
	"testing"
	"time"

	"github.com/havsd/havsd/lvs"
)

// TestHealthFlowsDuringReload holds a reload inside its load (as a large
// file's parse and validation would) and shows that a health transition is
// applied meanwhile; a reload asked for during the load gets a load of its
// own, started after it.
func TestHealthFlowsDuringReload(t *testing.T) {
	h := newHarness(t, webConfig(true, 0, 0))
	inLoad, release := make(chan struct{}), make(chan struct{})
	first := true
	load := func() Loaded {
		if first { // only the director's load goroutine calls this, one at a time
			first = false
			close(inLoad)
			<-release
		}
		return Loaded{Config: webConfig(true, 0, 0)}
	}
	h.loadFn.Store(&load)

	replies := make(chan ReloadStatus, 2)
	go func() {
		st, _ := h.d.Reload(context.Background())
		replies <- st
	}()
	select {
	case <-inLoad:
	case <-time.After(5 * time.Second):
		t.Fatal("the reload never started loading")
	}
	id1 := RealID(key80, lvs.DestKey{Addr: rs1, Port: 80})
	h.healthCh <- HealthChange{ID: id1, Up: false, Reason: "connection refused"}
	h.eventually("rs1 at weight 0 while the reload loads", func() bool {
		d, _ := h.ipvs.last()
		return weights(d)["192.168.0.101:80"] == 0
	})
	if st := h.status(); st.LastReload.Count != 0 {
		t.Fatalf("reload applied before its load finished: %+v", st.LastReload)
	}
	loadsBefore := h.loads.Load()
	go func() {
		st, _ := h.d.Reload(context.Background())
		replies <- st
	}()
	h.eventually("the second request in the mailbox", func() bool {
		h.d.reloadMu.Lock()
		defer h.d.reloadMu.Unlock()
		return len(h.d.waiting) == 1
	})
	close(release)
	for range 2 {
		select {
		case st := <-replies:
			if !st.OK {
				t.Fatalf("reload status = %+v", st)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a reload was never answered")
		}
	}
	if got := h.loads.Load(); got != loadsBefore+1 {
		t.Errorf("loads = %d, want %d: the request made during the first load needs a load of its own", got, loadsBefore+1)
	}
}
