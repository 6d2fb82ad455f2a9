package conf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate and its key as PEM files.
func selfSigned(t *testing.T) (cert, key string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "havsd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// TestHTTPExtras: regex_no_match and the TLS files reach the check spec
// and survive Format.
func TestHTTPExtras(t *testing.T) {
	cert, key := selfSigned(t)
	cfg := mustLoad(t, `
virtual_service "web" {
  address = "192.0.2.1:443"
  real_server "10.0.0.1:443" {
    check "https" {
      regex          = "maintenance"
      regex_no_match = true
      tls_verify     = true
      tls_ca         = "`+cert+`"
      tls_cert       = "`+cert+`"
      tls_key        = "`+key+`"
    }
  }
}`)
	for _, c := range []*Config{cfg, mustLoad(t, string(Format(cfg)))} {
		h := c.Services[0].Reals[0].Checks[0].HTTP
		if !h.RegexNoMatch || h.TLSCA != cert || h.TLSCert != cert || h.TLSKey != key {
			t.Errorf("HTTP spec %+v", h)
		}
	}
}

func TestHTTPExtrasErrors(t *testing.T) {
	cert, _ := selfSigned(t)
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not PEM"), 0o600)
	tests := []struct{ name, attrs, want, at string }{
		{"regex_no_match alone", `regex_no_match = true`, "regex_no_match without regex", "test.hcl:6:24"},
		{"tls_ca without verify", `tls_ca = "` + cert + `"`, "tls_ca without tls_verify", "test.hcl:6:16"},
		{"bad tls_ca", "tls_verify = true\n      tls_ca = \"" + bad + `"`, "Invalid tls_ca", "test.hcl:7:16"},
		{"missing tls_ca", "tls_verify = true\n      tls_ca = \"/nonexistent/ca.pem\"", "Cannot read tls_ca", "test.hcl:7:16"},
		{"cert without key", `tls_cert = "` + cert + `"`, "Client certificate without its key", "test.hcl:6:18"},
		{"key that does not fit", "tls_cert = \"" + cert + "\"\n      tls_key = \"" + bad + `"`, "Invalid client certificate", "test.hcl:6:18"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "\nvirtual_service \"web\" {\n  address = \"192.0.2.1:443\"\n  real_server \"10.0.0.1:443\" {\n    check \"https\" {\n      " +
				tt.attrs + "\n    }\n  }\n}\n"
			_, s, diags := LoadBytes("test.hcl", []byte(src))
			var b []byte
			s.WriteDiagnostics(&bytesWriter{&b}, diags, false)
			if !diags.HasErrors() || !strings.Contains(string(b), "Error: "+tt.want+"\n\n  on "+tt.at+",") {
				t.Errorf("diagnostics do not hold %q at %s:\n%s", tt.want, tt.at, b)
			}
		})
	}
}
