// Package daemon tests the havsd binary as operators run it: two directors in
// network namespaces on a bridge, a client probing the VIP, reloads,
// handovers, the control socket and the metrics endpoint.
package daemon

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/havsd/havsd/test/poll"
)

// havsd is the binary under test, built once by TestMain.
var havsd string

func TestMain(m *testing.M) {
	if os.Getenv("HAVSD_RESPONDER") != "" {
		respond(os.Getenv("HAVSD_RESPONDER"))
		return
	}
	if os.Geteuid() != 0 {
		fmt.Println("test/netns/daemon: needs root for network namespaces: skipping every test")
		if os.Getenv("CI") != "" {
			fmt.Println("FAIL: CI must run these tests as root")
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "havsd-daemon-test")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	havsd = filepath.Join(dir, "havsd")
	out, err := exec.Command("go", "build", "-o", havsd, "github.com/havsd/havsd/cmd/havsd").CombinedOutput()
	if err != nil {
		fmt.Printf("building havsd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// respond is the helper process run inside a director namespace: a TCP
// listener on every address that answers with the director's name, so the
// client can tell who holds the VIP.
func respond(name string) {
	ln, err := net.Listen("tcp", ":80")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Second))
			fmt.Fprintln(c, name)
		}()
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, d, what, cond)
}
