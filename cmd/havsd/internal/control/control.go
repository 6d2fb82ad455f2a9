// Package control is the director's local control socket: a Unix stream
// socket, root-only, carrying one JSON request and one JSON response per
// connection.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Request is what a client asks of the director.
type Request struct {
	Command  string `json:"command"`            // "status", "reload", "handover", "dump", "drain", "undrain", "debug-pprof", "debug-runtime"
	Instance string `json:"instance,omitempty"` // handover: the instance; empty for all
	// Profile, Debug and GC are for "debug-pprof": the runtime/pprof
	// profile's name, its text level (0 is the binary protobuf form) and
	// whether to collect garbage first.
	Profile string `json:"profile,omitempty"`
	Debug   int    `json:"debug,omitempty"`
	GC      bool   `json:"gc,omitempty"`
	// For is "drain"'s wait for traffic to move ("30s"); empty for the
	// bgp block's drain_for.
	For string `json:"for,omitempty"`
}

// Response is the director's answer. Exactly one of Error or Result is set.
type Response struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// Handler answers one request. It runs on the connection's goroutine.
type Handler func(ctx context.Context, req Request) (any, error)

// Server serves the control socket.
type Server struct {
	path    string
	handler Handler
	log     *slog.Logger
	// allowUID says which peer user IDs may connect; nil means root only.
	allowUID func(uid uint32) bool
}

// NewServer returns a server for path. It does no I/O.
func NewServer(path string, h Handler, log *slog.Logger) *Server {
	return &Server{path: path, handler: h, log: log}
}

// Listen creates the socket (removing a stale one) with mode 0600 in a
// directory of mode 0700 or stricter.
func (s *Server) Listen() (net.Listener, error) {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating control socket directory %s: %w", dir, err)
	}
	if c, err := net.DialTimeout("unix", s.path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s is in use: is another havsd running?", s.path)
	}
	_ = os.Remove(s.path)
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", s.path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listening on control socket %s: %w", s.path, err)
	}
	if err := os.Chmod(s.path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restricting control socket %s: %w", s.path, err)
	}
	return ln, nil
}

// Serve answers connections on ln until ctx is done.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	defer os.Remove(s.path)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accepting on control socket: %w", err)
		}
		go s.serveConn(ctx, c.(*net.UnixConn))
	}
}

func (s *Server) serveConn(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	uid, err := peerUID(c)
	if err != nil || !s.allowed(uid) {
		s.log.Warn("control connection refused", "component", "control", "uid", uid, "err", err)
		_ = json.NewEncoder(c).Encode(Response{Error: "permission denied: the control socket is for root only"})
		return
	}
	var req Request
	if err := json.NewDecoder(io.LimitReader(c, 1<<16)).Decode(&req); err != nil {
		_ = json.NewEncoder(c).Encode(Response{Error: fmt.Sprintf("bad request: %v", err)})
		return
	}
	res, err := s.handler(ctx, req)
	resp := Response{OK: err == nil}
	if err != nil {
		resp.Error = err.Error()
	}
	if res != nil {
		b, merr := json.Marshal(res)
		if merr != nil {
			resp = Response{Error: fmt.Sprintf("encoding result: %v", merr)}
		} else {
			resp.Result = b
		}
	}
	_ = json.NewEncoder(c).Encode(resp)
}

func (s *Server) allowed(uid uint32) bool {
	if s.allowUID != nil {
		return s.allowUID(uid)
	}
	return uid == 0
}

func peerUID(c *net.UnixConn) (uint32, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *syscall.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, fmt.Errorf("reading peer credentials: %w", serr)
	}
	return cred.Uid, nil
}

// Call sends req to the director at path and returns its response. An error
// response from the director is returned as an error; its result, if any, is
// still returned.
func Call(ctx context.Context, path string, req Request) (json.RawMessage, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("no director is listening on %s (is havsd running?)", path)
		}
		return nil, fmt.Errorf("connecting to %s: %w", path, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	// A server that refuses the peer answers and closes without reading:
	// the write may then fail while its answer waits to be read.
	werr := json.NewEncoder(c).Encode(req)
	var resp Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		if werr != nil {
			return nil, fmt.Errorf("sending %s request: %w", req.Command, werr)
		}
		return nil, fmt.Errorf("reading %s response: %w", req.Command, err)
	}
	if !resp.OK {
		return resp.Result, errors.New(resp.Error)
	}
	return resp.Result, nil
}
