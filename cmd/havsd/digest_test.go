package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDigestCommand(t *testing.T) {
	var host string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host = r.Host
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "hello\n")
	}))
	t.Cleanup(srv.Close)
	sum := md5.Sum([]byte("hello\n"))
	notFound := md5.Sum([]byte("404 page not found\n"))
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderrHas  string
		serverHost string
	}{
		{"digest", []string{srv.URL + "/"}, exitOK, hex.EncodeToString(sum[:]) + "\n", "HTTP status 200", ""},
		{"host header", []string{"-H", "www.example.test", srv.URL + "/"}, exitOK, hex.EncodeToString(sum[:]) + "\n", "", "www.example.test"},
		{"404 fails", []string{srv.URL + "/missing"}, exitFailure, "", "HTTP status 404 Not Found\nhavsd: digest: " + srv.URL + "/missing answered 404 Not Found, not a 2xx page", ""},
		{"404 digested when asked", []string{"-any-status", srv.URL + "/missing"}, exitOK, hex.EncodeToString(notFound[:]) + "\n", "HTTP status 404", ""},
		{"no url", nil, exitUsage, "", "usage: havsd digest", ""},
		{"not http", []string{"ftp://x/"}, exitUsage, "", "is not an http", ""},
		{"refused", []string{"-timeout", "1s", "http://127.0.0.1:1/"}, exitFailure, "", "connect 127.0.0.1:1: connection refused", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			c := &cli{stdout: &out, stderr: &errb}
			code := c.main(t.Context(), append([]string{"digest"}, tc.args...))
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, errb.String())
			}
			if out.String() != tc.stdout {
				t.Errorf("stdout %q, want %q", out.String(), tc.stdout)
			}
			if !strings.Contains(errb.String(), tc.stderrHas) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.stderrHas)
			}
			if tc.serverHost != "" && host != tc.serverHost {
				t.Errorf("server saw Host %q, want %q", host, tc.serverHost)
			}
		})
	}
}
