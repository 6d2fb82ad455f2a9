package track

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSetApplyKeepsUnchanged(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	p := writeScript(t, dir, "chk", "echo x >> "+count)
	ch := make(chan State, 64)
	s := NewSet(nil, ch)
	t.Cleanup(s.Stop)
	script := Script{Name: "chk", Argv: []string{p}, Interval: time.Hour, Timeout: time.Second, Rise: 1, Fall: 1}
	file := File{Name: "f", Path: filepath.Join(dir, "val")}
	os.WriteFile(file.Path, []byte("4"), 0o644)
	s.Apply(context.Background(), Spec{Scripts: []Script{script}, Files: []File{file}})
	seen := map[Kind]bool{}
	waitState(t, ch, "script ran and file read", func(st State) bool {
		seen[st.Key.Kind] = seen[st.Key.Kind] || st.Key.Kind == KindScript && st.OK || st.Key.Kind == KindFile && st.Value == 4
		return seen[KindScript] && seen[KindFile]
	})
	runs := func() int {
		b, _ := os.ReadFile(count)
		return len(b) / 2
	}
	// The same spec again: the script (interval 1h) is not restarted.
	s.Apply(context.Background(), Spec{Scripts: []Script{script}, Files: []File{file}})
	if n := runs(); n != 1 {
		t.Fatalf("re-applying the same spec restarted the script: %d runs", n)
	}
	// A changed script restarts; the removed file is forgotten.
	script.Rise = 2
	s.Apply(context.Background(), Spec{Scripts: []Script{script}})
	waitState(t, ch, "restarted script ran", func(st State) bool { return st.Key.Kind == KindScript })
	if n := runs(); n != 2 {
		t.Errorf("changed script: %d runs, want 2", n)
	}
	if _, ok := s.States()[Key{KindFile, "f"}]; ok {
		t.Error("a removed tracker's state is still reported")
	}
}
