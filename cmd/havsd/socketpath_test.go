package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSocketFromBrokenFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, text, want string }{
		{"valid", "global {\n  control_socket = \"/run/x.sock\"\n}\n", "/run/x.sock"},
		{"broken after global", "global {\n  control_socket = \"/run/x.sock\"\n}\nvrrp_instance {\n", "/run/x.sock"},
		{"semantically bad", "global {\n  control_socket = \"/run/x.sock\"\n  log_level = 7\n}\nvirtual_service \"a\" { scheduler = \"rrr\" }\n", "/run/x.sock"},
		{"not a string", "global {\n  control_socket = 42\n}\n", ""},
		{"none", "global {\n  router_id = \"a\"\n}\n", ""},
		{"garbage", "}}}{{{", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".hcl")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := socketFromBrokenFile(path); got != tc.want {
				t.Errorf("socketFromBrokenFile = %q, want %q", got, tc.want)
			}
		})
	}
	if got := socketFromBrokenFile(filepath.Join(dir, "absent.hcl")); got != "" {
		t.Errorf("absent file: %q", got)
	}
}
