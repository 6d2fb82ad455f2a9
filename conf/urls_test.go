package conf

import (
	"strings"
	"testing"
)

// TestURLBlocks: each url block of an http check is a check of its own
// with the check's settings; the server is up only while all pass.
func TestURLBlocks(t *testing.T) {
	cfg := mustLoad(t, `
virtual_service "web" {
  address = "192.0.2.1:80"
  real_server "10.0.0.1:80" {
    check "http" {
      interval = "2s"
      status   = ["200"]
      url { path = "/health" }
      url {
        path           = "/ready"
        regex          = "maintenance"
        regex_no_match = true
        status         = ["200-299"]
      }
    }
  }
}`)
	for _, c := range []*Config{cfg, mustLoad(t, string(Format(cfg)))} {
		cs := c.Services[0].Reals[0].Checks
		if len(cs) != 2 {
			t.Fatalf("%d checks, want one per url", len(cs))
		}
		a, b := cs[0], cs[1]
		if a.Interval != 2e9 || b.Interval != 2e9 || a.HTTP.Path != "/health" || b.HTTP.Path != "/ready" {
			t.Errorf("checks %+v %+v", a, b)
		}
		if len(a.HTTP.Status) != 1 || a.HTTP.Status[0].Hi != 200 || b.HTTP.Status[0].Hi != 299 || !b.HTTP.RegexNoMatch || a.HTTP.RegexNoMatch {
			t.Errorf("url settings %+v %+v", a.HTTP, b.HTTP)
		}
	}
}

func TestURLBlockErrors(t *testing.T) {
	tests := []struct{ name, check, want, at string }{
		{"url in a tcp check", `check "tcp" {
      url { path = "/" }
    }`, "url block in a tcp check", "test.hcl:6:7"},
		{"bad status in a url", `check "http" {
      url { status = ["2000"] }
    }`, "Invalid status", "test.hcl:6:23"},
		{"unknown attribute in a url", `check "http" {
      url { paht = "/" }
    }`, "Unsupported argument", "test.hcl:6:13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "\nvirtual_service \"web\" {\n  address = \"192.0.2.1:80\"\n  real_server \"10.0.0.1:80\" {\n    " + tt.check + "\n  }\n}\n"
			_, s, diags := LoadBytes("test.hcl", []byte(src))
			var b []byte
			s.WriteDiagnostics(&bytesWriter{&b}, diags, false)
			if !diags.HasErrors() || !strings.Contains(string(b), "Error: "+tt.want) || !strings.Contains(string(b), "on "+tt.at+",") {
				t.Errorf("diagnostics do not hold %q at %s:\n%s", tt.want, tt.at, b)
			}
		})
	}
	// A mistake in the check's own settings is one error, not one per url.
	_, _, diags := LoadBytes("test.hcl", []byte(`
virtual_service "web" {
  address = "192.0.2.1:80"
  real_server "10.0.0.1:80" {
    check "http" {
      digest = "xyz"
      url { path = "/a" }
      url { path = "/b" }
    }
  }
}`))
	n := 0
	for _, d := range diags {
		if d.Summary == "Invalid digest" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d digest errors for 2 urls, want 1: %v", n, diags)
	}
}
