package conf

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/track"
)

// FILE_CHECK (a real server's track_file) and misc_dynamic: parsed,
// resolved (the track_file's weight and reverse unless the use sets its
// own) and kept by Format.
func TestFileCheckAndMiscDynamic(t *testing.T) {
	cfg := mustLoad(t, `
track_file "maint" {
  path    = "/run/havsd/maint"
  weight  = 5
  reverse = true
}
track_file "drain" {
  path = "/run/havsd/drain"
}
virtual_service "web" {
  address = "192.0.2.1:80"
  real_server "10.0.0.1" {
    track_file "maint" {}
    track_file "drain" {
      weight = 0
    }
    check "script" {
      command      = ["/bin/true"]
      misc_dynamic = true
    }
  }
  real_server "10.0.0.2" {
    track_file "maint" {
      weight = -3
    }
  }
}
`)
	key := func(n string) track.Key { return track.Key{Kind: track.KindFile, Name: n} }
	rs := cfg.Services[0].Reals
	want := [][]track.Ref{
		{{Key: key("maint"), Weight: 5, Reverse: true}, {Key: key("drain"), Weight: 0}},
		{{Key: key("maint"), Weight: -3, Reverse: true}},
	}
	if d := cmp.Diff(want, [][]track.Ref{rs[0].TrackFiles, rs[1].TrackFiles}); d != "" {
		t.Errorf("TrackFiles (-want +got):\n%s", d)
	}
	if s := rs[0].Checks[0].Script; s == nil || !s.Dynamic {
		t.Errorf("misc_dynamic lost: %+v", s)
	}
	if len(rs[1].Checks) != 0 {
		t.Errorf("a FILE_CHECK is not a scheduled check: %+v", rs[1].Checks)
	}
	back := mustLoad(t, string(Format(cfg)))
	br := back.Services[0].Reals
	if d := cmp.Diff(want, [][]track.Ref{br[0].TrackFiles, br[1].TrackFiles}); d != "" || !br[0].Checks[0].Script.Dynamic {
		t.Errorf("after Format and Load (-want +got):\n%s\n%s", d, Format(cfg))
	}
}

func TestFileCheckErrors(t *testing.T) {
	_, src, diags := LoadBytes("t.hcl", []byte(`track_file "maint" {
  path = "/run/havsd/maint"
}
virtual_service "web" {
  address = "192.0.2.1:80"
  real_server "10.0.0.1" {
    track_file "maitn" {}
    track_file "maint" {
      weight = 70000
    }
    track_file "maint" {}
    check "tcp" {
      misc_dynamic = true
    }
  }
}
`))
	var b bytes.Buffer
	src.WriteDiagnostics(&b, diags, false)
	for _, w := range []string{
		"Unknown track_file", "on t.hcl:7:16", `Did you mean "maint"?`,
		"Invalid weight", "on t.hcl:9:16",
		"Duplicate track_file", "on t.hcl:11:16",
		"Attribute not valid for a tcp check", "on t.hcl:13:7",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("diagnostics lack %q:\n%s", w, b.String())
		}
	}
}
