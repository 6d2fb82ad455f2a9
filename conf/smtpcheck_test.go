package conf

import (
	"net/netip"
	"testing"

	"github.com/havsd/havsd/checks"
)

// TestSMTPCheckCompile: an smtp check probes port 25 unless told, sends
// its helo_name, and Format writes it back the same.
func TestSMTPCheckCompile(t *testing.T) {
	cfg := mustLoad(t, `
virtual_service "mail" {
  fwmark = 25
  real_server "10.0.0.1" {
    check "smtp" { helo_name = "lb.example" }
  }
  real_server "10.0.0.2" {
    check "smtp" { port = 587 }
  }
}`)
	check := func(t *testing.T, cfg *Config) {
		t.Helper()
		for i, want := range []struct {
			target netip.AddrPort
			helo   string
		}{{netip.MustParseAddrPort("10.0.0.1:25"), "lb.example"}, {netip.MustParseAddrPort("10.0.0.2:587"), ""}} {
			c := cfg.Services[0].Reals[i].Checks[0]
			if c.Kind != checks.KindSMTP || c.Target != want.target || c.SMTP == nil || c.SMTP.HeloName != want.helo {
				t.Errorf("real %d: %+v %+v, want smtp to %s helo %q", i, c, c.SMTP, want.target, want.helo)
			}
			if c.Retry != 2 || c.DelayBeforeRetry != DefaultDelayBeforeRetry {
				t.Errorf("real %d: retry %d delay %s, want keepalived's 1 (2 failures) and 1s", i, c.Retry, c.DelayBeforeRetry)
			}
		}
	}
	check(t, cfg)
	t.Run("format", func(t *testing.T) { check(t, mustLoad(t, string(Format(cfg)))) })
}
