package conf_test

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/director"
)

// TestServiceGroupSharesProbe runs the checks of a three-member group
// against a loopback real server: the scheduler has three targets and one
// probe, and the server sees one connection per check run, not three.
func TestServiceGroupSharesProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepts atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			c.Close()
		}
	}()
	src := fmt.Sprintf(`
virtual_service_group "web" {
  address = ["192.0.2.10:80", "192.0.2.11:80"]
  fwmark  = [7]
}
virtual_service "web" {
  group = "web"
  check "tcp" {
    interval = "20ms"
    timeout  = "1s"
  }
  real_server "%s" {}
}`, ln.Addr())
	cfg, _, diags := conf.LoadBytes("test.hcl", []byte(src))
	if cfg == nil {
		t.Fatal(diags)
	}
	targets, _ := director.Targets(cfg)
	m := map[checks.ID][]checks.Spec{}
	for id, specs := range targets {
		m[checks.ID(id)] = specs
	}
	s := checks.NewScheduler(checks.Options{})
	s.Set(m)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Checks < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d checks ran in 10s", s.Stats().Checks)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	done <- nil
	st := s.Stats()
	t.Logf("%d targets, %d probes, %d check runs, %d connections to the real server", st.Targets, st.Probes, st.Checks, accepts.Load())
	if st.Targets != 3 || st.Probes != 1 {
		t.Errorf("%d targets, %d probes; want 3 targets sharing 1 probe", st.Targets, st.Probes)
	}
	if n := accepts.Load(); n > int64(st.Checks)+1 {
		t.Errorf("%d connections for %d check runs: the members do not share the probe", n, st.Checks)
	}
	for id, h := range s.Status() {
		if len(h.Checks) != 1 || h.Checks[0].SharedBy != 3 {
			t.Errorf("%s: %+v, want one check shared by 3", id, h.Checks)
		}
	}
}
