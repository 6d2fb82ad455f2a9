package checks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTTPRegexNoMatch: with RegexNoMatch the check fails when the body
// matches, and passes when it does not.
func TestHTTPRegexNoMatch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("status: maintenance\n"))
	}))
	t.Cleanup(srv.Close)
	target := netip.MustParseAddrPort(srv.Listener.Addr().String())
	for _, tt := range []struct {
		regex   string
		noMatch bool
		wantErr string
	}{
		{"maintenance", true, "matches regex"},
		{"error", true, ""},
		{"maintenance", false, ""},
		{"error", false, "does not match"},
	} {
		t.Run(tt.regex+map[bool]string{true: " no match"}[tt.noMatch], func(t *testing.T) {
			c, err := New(Spec{Kind: KindHTTP, Target: target, Timeout: 2 * time.Second,
				HTTP: &HTTPSpec{Path: "/", Regex: tt.regex, RegexNoMatch: tt.noMatch}})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Check(context.Background())
			if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Check = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA, as PEM files in a temporary directory.
type testPKI struct {
	dir                           string
	caPool                        *x509.CertPool
	serverCert                    tls.Certificate
	caFile, clientCert, clientKey string
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth, nil)
	p := testPKI{dir: dir, caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	p.serverCert = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	p.caFile = write("ca.pem", "CERTIFICATE", caDER)
	p.clientCert = write("client.pem", "CERTIFICATE", cliDER)
	p.clientKey = write("client.key", "EC PRIVATE KEY", keyDER(cliKey))
	return p
}

// TestHTTPSClientCertAndCA: a server that demands a client certificate
// accepts the check only with tls_cert/tls_key; tls_ca lets tls_verify
// trust a private CA.
func TestHTTPSClientCertAndCA(t *testing.T) {
	pki := newTestPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.serverCert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.caPool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	target := netip.MustParseAddrPort(srv.Listener.Addr().String())
	for _, tt := range []struct {
		name    string
		h       HTTPSpec
		wantErr bool
	}{
		{"client cert, CA verified", HTTPSpec{TLSVerify: true, TLSCA: pki.caFile, TLSCert: pki.clientCert, TLSKey: pki.clientKey}, false},
		{"client cert, no verification", HTTPSpec{TLSCert: pki.clientCert, TLSKey: pki.clientKey}, false},
		{"no client cert", HTTPSpec{}, true},
		{"verify without the CA", HTTPSpec{TLSVerify: true, TLSCert: pki.clientCert, TLSKey: pki.clientKey}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.h.Path = "/"
			c, err := New(Spec{Kind: KindHTTPS, Target: target, Timeout: 2 * time.Second, HTTP: &tt.h})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Check(context.Background())
			if (err != nil) != tt.wantErr {
				t.Errorf("Check = %v, want error %v", err, tt.wantErr)
			}
		})
	}
	t.Run("missing files", func(t *testing.T) {
		_, err := New(Spec{Kind: KindHTTPS, Target: target, HTTP: &HTTPSpec{TLSCA: filepath.Join(pki.dir, "nope.pem")}})
		if err == nil || !strings.Contains(err.Error(), "tls_ca") {
			t.Errorf("New = %v, want a tls_ca error", err)
		}
	})
}
