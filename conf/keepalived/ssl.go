package keepalived

// The top-level SSL block: the client certificate, key and CA of every
// SSL_GET. keepalived sends the certificate (with its key) when the server
// asks for one, and loads the CA without verifying the server with it.

type sslSettings struct {
	node                *Node
	ca, cert, key       string
	caNode, certNode    *Node
	keyNode, passwdNode *Node
}

func (c *converter) sslBlock(n *Node) {
	c.extra(n, 0)
	c.global.ssl.node = n
	c.walk(scopeSSL, n.Children)
}

func sslFile(field func(*sslSettings) (*string, **Node)) func(*converter, *Node) {
	return func(c *converter, n *Node) {
		if v, ok := c.arg(n, 1); ok {
			c.extra(n, 1)
			s, at := field(&c.global.ssl)
			*s, *at = v, n
		}
	}
}

// finishSSL reports what of the SSL block the https checks cannot carry;
// it returns the client certificate and key to give them.
func (c *converter) finishSSL(used bool) (cert, key string) {
	s := &c.global.ssl
	if s.node == nil {
		return "", ""
	}
	if s.passwdNode != nil {
		c.left(s.passwdNode, "decrypts the key with a password", "an unencrypted key file (tls_key)")
	}
	if s.caNode != nil {
		c.note(s.caNode, "keepalived loads the CA but does not verify the server with it; neither do the converted https checks (tls_ca with tls_verify = true would)")
	}
	switch {
	case s.certNode != nil && s.keyNode == nil:
		c.left(s.certNode, "a client certificate without its key", "tls_cert with tls_key")
		return "", ""
	case s.keyNode != nil && s.certNode == nil:
		c.left(s.keyNode, "a client key without its certificate", "tls_cert with tls_key")
		return "", ""
	case s.certNode != nil && s.passwdNode != nil:
		return "", "" // the key is encrypted: reported above
	case s.certNode != nil && used:
		c.note(s.certNode, "every SSL_GET check sends this client certificate: tls_cert and tls_key in each https check")
	}
	return s.cert, s.key
}
