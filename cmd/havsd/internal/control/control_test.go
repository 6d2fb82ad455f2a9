package control

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func serve(t *testing.T, allow func(uint32) bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "havsd.sock")
	s := NewServer(path, func(ctx context.Context, req Request) (any, error) {
		switch req.Command {
		case "status":
			return map[string]string{"state": "master"}, nil
		case "reload":
			return map[string]string{"diagnostics": "x.hcl:1,1: bad"}, errors.New("reload rejected")
		}
		return nil, errors.New("unknown command")
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.allowUID = allow
	ln, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return path
}

func TestCallAndErrors(t *testing.T) {
	path := serve(t, func(uint32) bool { return true })
	res, err := Call(context.Background(), path, Request{Command: "status"})
	if err != nil || !strings.Contains(string(res), "master") {
		t.Fatalf("status: %s, %v", res, err)
	}
	res, err = Call(context.Background(), path, Request{Command: "reload"})
	if err == nil || !strings.Contains(string(res), "x.hcl:1,1") {
		t.Fatalf("failed reload must return both its error and its result: %s, %v", res, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm()&0o077 != 0 {
		t.Errorf("socket directory mode = %v; want no access for group or others", di.Mode().Perm())
	}
}

// TestPeerCredentials: the server checks the peer's uid with SO_PEERCRED
// even when the file permissions let the connection through.
func TestPeerCredentials(t *testing.T) {
	var seen []uint32
	path := serve(t, func(uid uint32) bool { seen = append(seen, uid); return false })
	_, err := Call(context.Background(), path, Request{Command: "status"})
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("refused peer got %v, want permission denied", err)
	}
	if len(seen) != 1 || seen[0] != uint32(os.Getuid()) {
		t.Errorf("peer uids checked = %v, want [%d]", seen, os.Getuid())
	}
}

func TestSecondServerRefused(t *testing.T) {
	path := serve(t, nil)
	s := NewServer(path, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := s.Listen(); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Listen on a live socket: %v, want \"in use\"", err)
	}
}

func TestNoDirector(t *testing.T) {
	_, err := Call(context.Background(), filepath.Join(t.TempDir(), "none.sock"), Request{Command: "status"})
	if err == nil || !strings.Contains(err.Error(), "is havsd running") {
		t.Fatalf("got %v", err)
	}
}
