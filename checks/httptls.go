package checks

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// useTLSFiles loads the CA bundle and the client certificate an HTTPS
// check names into its TLS configuration: the CA verifies the server (with
// TLSVerify), the certificate and key answer a server that asks for one.
func useTLSFiles(cfg *tls.Config, h HTTPSpec) error {
	if cfg == nil {
		return nil
	}
	if h.TLSCA != "" {
		pem, err := os.ReadFile(h.TLSCA)
		if err != nil {
			return fmt.Errorf("tls_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("tls_ca %s: no PEM certificate in it", h.TLSCA)
		}
		cfg.RootCAs = pool
	}
	if h.TLSCert != "" || h.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(h.TLSCert, h.TLSKey)
		if err != nil {
			return fmt.Errorf("tls_cert/tls_key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return nil
}
