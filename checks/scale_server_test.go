//go:build linux

package checks

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// scaleServer runs in the benchmark's child process: N HTTP servers at
// 127.1.x.y, a stdin command "STOP k" that kills the first k of them (their
// connections are reset and new ones refused), "COUNT" that prints the
// requests served so far, addresses on stdout.
//
// By default each server has its own listener, closed by STOP, so that new
// connections are refused. With kept-alive checks (env HAVSD_SCALE_SHARED)
// file descriptors would run out (a listener and a connection per server),
// so all servers share one listener on a wildcard address bound to the
// loopback device (SO_BINDTODEVICE "lo": only this host can connect; needs
// CAP_NET_RAW), and a stopped server's connections are reset on accept.
func scaleServer() int {
	n, _ := strconv.Atoi(os.Getenv(scaleServerEnv))
	var requests atomic.Int64
	raiseNoFile(uint64(2*n + 1000))
	st := &scaleState{conns: map[string]map[net.Conn]bool{}, stopped: map[string]bool{}, lns: map[string]net.Listener{}}
	srv := &http.Server{
		ConnState: st.track,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			w.Header().Set("Content-Length", "3")
			io.WriteString(w, "ok\n")
		}),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       30 * time.Second,
	}
	addrs, err := st.listen(srv, n, os.Getenv("HAVSD_SCALE_SHARED") != "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	for _, a := range addrs {
		fmt.Fprintln(out, a)
	}
	fmt.Fprintln(out, "READY")
	out.Flush()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "COUNT" {
			fmt.Printf("COUNT %d\n", requests.Load())
			continue
		}
		var k int
		if _, err := fmt.Sscanf(in.Text(), "STOP %d", &k); err != nil {
			continue
		}
		at := time.Now()
		st.stop(addrs[:min(k, n)])
		fmt.Printf("STOPPED %d %d\n", at.UnixNano(), time.Now().UnixNano())
	}
	return 0
}

// scaleState tracks open connections by local address and the stopped
// addresses.
type scaleState struct {
	mu      sync.Mutex
	conns   map[string]map[net.Conn]bool
	stopped map[string]bool
	lns     map[string]net.Listener // per-server listeners, if any
}

func (st *scaleState) track(c net.Conn, s http.ConnState) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k := c.LocalAddr().String()
	switch s {
	case http.StateNew:
		if st.conns[k] == nil {
			st.conns[k] = map[net.Conn]bool{}
		}
		st.conns[k][c] = true
	case http.StateClosed, http.StateHijacked:
		delete(st.conns[k], c)
	}
}

func (st *scaleState) stop(addrs []string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, a := range addrs {
		st.stopped[a] = true
		if ln := st.lns[a]; ln != nil {
			ln.Close()
		}
		for c := range st.conns[a] {
			resetClose(c)
		}
	}
}

func (st *scaleState) isStopped(addr string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.stopped[addr]
}

func resetClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// listen starts serving n addresses and returns them.
func (st *scaleState) listen(srv *http.Server, n int, shared bool) ([]string, error) {
	addrs := make([]string, n)
	if !shared {
		// per-server listeners, below
	} else if ln, err := listenLoopbackDevice(); err == nil {
		port := ln.Addr().(*net.TCPAddr).Port
		for i := range addrs {
			addrs[i] = fmt.Sprintf("127.1.%d.%d:%d", i/250, i%250+1, port)
		}
		go srv.Serve(gateListener{ln, st})
		return addrs, nil
	}
	for i := range addrs {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.1.%d.%d:0", i/250, i%250+1))
		if err != nil {
			return nil, fmt.Errorf("listen %d: %w", i, err)
		}
		addrs[i] = ln.Addr().String()
		st.lns[addrs[i]] = ln
		go srv.Serve(gateListener{ln, st})
	}
	return addrs, nil
}

// listenLoopbackDevice listens on 0.0.0.0 restricted to the "lo" device.
func listenLoopbackDevice() (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, "lo")
		}); err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp4", "0.0.0.0:0")
}

// gateListener resets connections to stopped addresses as they arrive.
type gateListener struct {
	net.Listener
	st *scaleState
}

func (l gateListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.st.isStopped(c.LocalAddr().String()) {
			return c, nil
		}
		resetClose(c)
	}
}

// childMain runs the role a parent test asked this process for, if any,
// and reports its exit code.
func childMain() (int, bool) {
	if os.Getenv(scaleServerEnv) != "" {
		return scaleServer(), true
	}
	if role := os.Getenv(starveEnv); role != "" {
		return starveChild(role), true
	}
	return 0, false
}
