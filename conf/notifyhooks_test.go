package conf

import (
	"slices"
	"testing"
)

func TestQuorumAndNotifyHooks(t *testing.T) {
	cfg := mustLoad(t, `
virtual_service "web" {
  address     = "192.0.2.1:80"
  quorum      = 1
  quorum_up   = ["/bin/sh", "-c", "logger up"]
  quorum_down = ["sh", "-c", "logger down"]
  omega       = true
  real_server "10.0.0.1" {
    notify_up   = ["/bin/true"]
    notify_down = ["/bin/false", "x"]
  }
}`)
	vs := cfg.Services[0]
	if len(vs.QuorumDown) != 3 || vs.QuorumDown[0][0] != '/' {
		t.Errorf("quorum_down %q: the program is not resolved to an absolute path", vs.QuorumDown)
	}
	if !slices.Equal(vs.QuorumUp, []string{"/bin/sh", "-c", "logger up"}) || len(vs.Reals[0].NotifyDown) != 2 || vs.Reals[0].NotifyUp == nil {
		t.Errorf("hooks %q %q %q", vs.QuorumUp, vs.Reals[0].NotifyUp, vs.Reals[0].NotifyDown)
	}
	if !vs.Omega {
		t.Error("omega not set")
	}
	back := mustLoad(t, string(Format(cfg)))
	if b := back.Services[0]; !slices.Equal(b.QuorumDown, vs.QuorumDown) || !slices.Equal(b.Reals[0].NotifyDown, vs.Reals[0].NotifyDown) || !b.Omega {
		t.Errorf("lost by Format:\n%s", Format(cfg))
	}
}
