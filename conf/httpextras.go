package conf

import (
	"crypto/tls"
	"crypto/x509"
	"os"
)

// validateHTTPExtras checks regex_no_match and the TLS files of an HTTP(S)
// check: each file is read and parsed at load, so that a wrong path is an
// error at its attribute rather than a check failing at run time.
func (v *validator) validateHTTPExtras(c *rawCheck) {
	b := c.b
	if b.has("regex_no_match") && !b.has("regex") && !b.bad["regex"] {
		v.errorf(b.at("regex_no_match"), "regex_no_match without regex", "regex_no_match inverts regex: set the regex the body must not match.")
	}
	if b.has("tls_ca") {
		if !c.tlsVerify {
			v.errorf(b.at("tls_ca"), "tls_ca without tls_verify", "tls_ca is the CA that verifies the server's certificate: set tls_verify = true too.")
		} else if pem, err := os.ReadFile(c.tlsCA); err != nil {
			v.errorf(b.at("tls_ca"), "Cannot read tls_ca", "%v.", err)
		} else if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			v.errorf(b.at("tls_ca"), "Invalid tls_ca", "%s holds no PEM certificate.", c.tlsCA)
		}
	}
	switch {
	case b.has("tls_cert") != b.has("tls_key"):
		at := b.at("tls_cert")
		if b.has("tls_key") {
			at = b.at("tls_key")
		}
		v.errorf(at, "Client certificate without its key", "Set both tls_cert and tls_key (PEM files).")
	case b.has("tls_cert"):
		if _, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey); err != nil {
			v.errorf(b.at("tls_cert"), "Invalid client certificate", "tls_cert %s with tls_key %s: %v.", c.tlsCert, c.tlsKey, err)
		}
	}
}
