package checks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsChecker sends one recursive query over UDP and expects rcode NOERROR
// with at least one answer record.
type dnsChecker struct {
	spec     Spec
	name     dnsmessage.Name
	qtype    dnsmessage.Type
	typeName string
}

// rcodeNames are the RFC mnemonics of the common response codes.
var rcodeNames = map[dnsmessage.RCode]string{
	dnsmessage.RCodeFormatError: "FORMERR", dnsmessage.RCodeServerFailure: "SERVFAIL",
	dnsmessage.RCodeNameError: "NXDOMAIN", dnsmessage.RCodeNotImplemented: "NOTIMP",
	dnsmessage.RCodeRefused: "REFUSED",
}

var dnsTypes = map[string]dnsmessage.Type{
	"A": dnsmessage.TypeA, "AAAA": dnsmessage.TypeAAAA, "NS": dnsmessage.TypeNS,
	"CNAME": dnsmessage.TypeCNAME, "SOA": dnsmessage.TypeSOA, "PTR": dnsmessage.TypePTR,
	"MX": dnsmessage.TypeMX, "TXT": dnsmessage.TypeTXT, "SRV": dnsmessage.TypeSRV,
}

func newDNSChecker(spec Spec) (*dnsChecker, error) {
	d := spec.DNS
	if d == nil || d.Name == "" {
		return nil, fmt.Errorf("building dns check: no query name")
	}
	typ := strings.ToUpper(d.Type)
	if typ == "" {
		typ = "A"
	}
	qtype, ok := dnsTypes[typ]
	if !ok {
		return nil, fmt.Errorf("building dns check: unknown query type %q", d.Type)
	}
	fqdn := d.Name
	if !strings.HasSuffix(fqdn, ".") {
		fqdn += "."
	}
	name, err := dnsmessage.NewName(fqdn)
	if err != nil {
		return nil, fmt.Errorf("building dns check: name %q: %w", d.Name, err)
	}
	return &dnsChecker{spec: spec, name: name, qtype: qtype, typeName: typ}, nil
}

func (c *dnsChecker) Check(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx, c.spec.Timeout)
	defer cancel()
	addr := c.spec.Target.String()
	id := uint16(rand.Uint32())
	q := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: c.name, Type: c.qtype, Class: dnsmessage.ClassINET}},
	}
	pkt, err := q.Pack()
	if err != nil {
		return fmt.Errorf("dns %s: packing query: %w", addr, err)
	}
	conn, err := dialer(&c.spec, "udp").DialContext(ctx, "udp", addr)
	if err != nil {
		return netErr(ctx, "dns", addr, c.spec.Timeout, err)
	}
	defer conn.Close()
	stop := closeOnDone(ctx, conn)
	defer stop()
	if _, err := conn.Write(pkt); err != nil {
		return udpErr(ctx, addr, c.spec.Timeout, "sending", err)
	}
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if isTimeout(ctx, err) {
				return timeoutf("dns %s: no answer to %s %s within %s", addr, c.name, c.typeName, c.spec.Timeout)
			}
			return udpErr(ctx, addr, c.spec.Timeout, "reading", err)
		}
		var m dnsmessage.Message
		if err := m.Unpack(buf[:n]); err != nil || !m.Header.Response || m.Header.ID != id {
			continue // not our answer: keep waiting until the deadline
		}
		if rc := m.Header.RCode; rc != dnsmessage.RCodeSuccess {
			name, ok := rcodeNames[rc]
			if !ok {
				name = fmt.Sprintf("rcode %d", rc)
			}
			return fmt.Errorf("dns %s: %s %s: %s", addr, c.name, c.typeName, name)
		}
		if len(m.Answers) == 0 {
			return fmt.Errorf("dns %s: %s %s: no answer records", addr, c.name, c.typeName)
		}
		return nil
	}
}
