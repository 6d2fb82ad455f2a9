package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBGPDrainSettings: drain_for and graceful_shutdown reach the compiled
// bgp block, Diff names them, Format writes them back, and a negative
// drain_for is an error at its position.
func TestBGPDrainSettings(t *testing.T) {
	const src = `bgp {
  asn               = 65001
  router_id         = "10.0.0.11"
  drain_for         = "5s"
  graceful_shutdown = true
  neighbor "10.0.0.1" {
    asn = 65000
  }
}
`
	cfg := loadBGPString(t, src)
	if cfg.BGP.DrainFor != 5*time.Second || !cfg.BGP.GracefulShutdown {
		t.Fatalf("bgp = %+v, want drain_for 5s and graceful_shutdown", cfg.BGP)
	}
	plain := loadBGPString(t, strings.NewReplacer(`  drain_for         = "5s"`+"\n", "", "  graceful_shutdown = true\n", "").Replace(src))
	if plain.BGP.DrainFor != 0 || plain.BGP.GracefulShutdown {
		t.Errorf("defaults = %+v, want zero (the director's default) and withdraw", plain.BGP)
	}
	got := strings.Join(diffBGP(plain.BGP, cfg.BGP), ",")
	if got != "drain_for,graceful_shutdown" {
		t.Errorf("diffBGP = %q", got)
	}
	out := string(Format(cfg))
	if !strings.Contains(out, `drain_for         = "5s"`) || !strings.Contains(out, "graceful_shutdown = true") {
		t.Errorf("Format lacks the settings:\n%s", out)
	}
	if again := loadBGPString(t, out); again.BGP.DrainFor != 5*time.Second || !again.BGP.GracefulShutdown {
		t.Errorf("formatted file loads as %+v", again.BGP)
	}

	path := filepath.Join(t.TempDir(), "neg.hcl")
	if err := os.WriteFile(path, []byte(strings.Replace(src, `"5s"`, `"-1s"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, diags := Load(path)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "neg.hcl:4,") || !strings.Contains(diags.Error(), `"drain_for" must not be negative`) {
		t.Errorf("negative drain_for: %v", diags)
	}
}

func loadBGPString(t *testing.T, src string) *Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bgp.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _, diags := Load(path)
	if diags.HasErrors() || cfg == nil || cfg.BGP == nil {
		t.Fatalf("loading:\n%s\n%v", src, diags)
	}
	return cfg
}
