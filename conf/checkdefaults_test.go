package conf

import (
	"fmt"
	"testing"
	"time"
)

// keepalived's retry N means N more checks after the first failure, so a
// server is down after N+1 failures in a row; each kind has keepalived's
// default retry and delay_before_retry.
func TestCheckRetryIsKeepalivedRetry(t *testing.T) {
	cases := []struct {
		kind, attrs string
		wantRetry   int // checks.Spec.Retry: failures in a row
		wantDelay   time.Duration
	}{
		{"tcp", "", 2, time.Second},
		{"tcp", "retry = 0", 1, time.Second},
		{"tcp", "retry = 3\ndelay_before_retry = \"2s\"", 4, 2 * time.Second},
		{"http", "", 2, 3 * time.Second},
		{"https", "", 2, 3 * time.Second},
		{"dns", "query_name = \"example.org\"\ninterval = \"20s\"", 4, 20 * time.Second},
		{"script", "command = [\"/bin/true\"]", 1, time.Second},
		{"udp", "", 2, time.Second},
		{"ping", "", 2, time.Second},
	}
	for _, c := range cases {
		t.Run(c.kind+" "+c.attrs, func(t *testing.T) {
			cfg := mustLoad(t, fmt.Sprintf(`
virtual_service "web" {
  protocol = "udp"
  address  = "192.0.2.1:53"
  real_server "192.0.2.10:53" {
    check %q {
      %s
    }
  }
}`, c.kind, c.attrs))
			sp := cfg.Services[0].Reals[0].Checks[0]
			if sp.Retry != c.wantRetry || sp.DelayBeforeRetry != c.wantDelay {
				t.Errorf("Retry %d, DelayBeforeRetry %s; want %d, %s", sp.Retry, sp.DelayBeforeRetry, c.wantRetry, c.wantDelay)
			}
			back := mustLoad(t, string(Format(cfg)))
			if got := back.Services[0].Reals[0].Checks[0]; got.Retry != sp.Retry || got.DelayBeforeRetry != sp.DelayBeforeRetry {
				t.Errorf("after Format: Retry %d, DelayBeforeRetry %s", got.Retry, got.DelayBeforeRetry)
			}
		})
	}
}
