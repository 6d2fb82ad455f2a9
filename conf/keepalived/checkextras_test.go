package keepalived

import (
	"net/netip"
	"testing"

	"github.com/havsd/havsd/checks"
)

// TestSMTPAndConnectIP: SMTP_CHECK becomes an smtp check on port 25 (or
// connect_port) with its helo_name; connect_ip moves any check's target.
func TestSMTPAndConnectIP(t *testing.T) {
	cfg, _ := convert(t, vrrpHead+`}
virtual_server 10.0.0.100 25 {
  protocol TCP
  real_server 10.0.1.1 25 {
    SMTP_CHECK {
      helo_name lb.example
      connect_ip 10.0.2.1
    }
    TCP_CHECK {
      connect_ip 10.0.2.2
      connect_port 2525
    }
  }
  real_server 10.0.1.2 2500 {
    SMTP_CHECK {
    }
  }
}
`)
	want := []struct {
		real   int
		kind   checks.Kind
		target string
		helo   string
	}{
		{0, checks.KindSMTP, "10.0.2.1:25", "lb.example"},
		{0, checks.KindTCP, "10.0.2.2:2525", ""},
		{1, checks.KindSMTP, "10.0.1.2:25", ""},
	}
	rs := cfg.Services[0].Reals
	got := append(append([]checks.Spec{}, rs[0].Checks...), rs[1].Checks...)
	if len(got) != len(want) {
		t.Fatalf("%d checks, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		c := got[i]
		helo := ""
		if c.SMTP != nil {
			helo = c.SMTP.HeloName
		}
		if c.Kind != w.kind || c.Target != netip.MustParseAddrPort(w.target) || helo != w.helo {
			t.Errorf("check %d: %s %s helo %q, want %s %s helo %q", i, c.Kind, c.Target, helo, w.kind, w.target, w.helo)
		}
	}
}

// TestRegexNoMatch: a url's regex_no_match inverts its regex; each url is
// a check of its own, all of which must pass.
func TestRegexNoMatch(t *testing.T) {
	cfg, _ := convert(t, vrrpHead+`}
virtual_server 10.0.0.100 80 {
  protocol TCP
  real_server 10.0.1.1 80 {
    HTTP_GET {
      url {
        path /health
        regex "maintenance"
        regex_no_match
      }
      url {
        path /ready
        regex "ok"
      }
    }
  }
}
`)
	cs := cfg.Services[0].Reals[0].Checks
	if len(cs) != 2 || !cs[0].HTTP.RegexNoMatch || cs[0].HTTP.Regex != "maintenance" || cs[1].HTTP.RegexNoMatch {
		t.Errorf("checks %+v %+v", cs[0].HTTP, cs[1].HTTP)
	}
}
