package checks

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// httpChecker performs a GET and checks status, body digest and regex.
// What does not depend on its target it shares with the other checks of
// its shape.
type httpChecker struct {
	spec   *Spec // Target is not read
	target netip.AddrPort
	sh     *httpShape
	get    *getter
}

// httpShape is what the HTTP checks of one shape share, built from the
// settings by the first of them: with thousands of real servers checked
// alike, one compiled regex, one dialer and one TLS configuration (with
// its CA pool and client certificate) rather than one each.
type httpShape struct {
	status  []StatusRange
	re      *regexp.Regexp
	digest  string
	noMatch bool // regex_no_match: the body must not match re
	dialer  *net.Dialer
	tls     *tls.Config // the first checker's, with the files loaded; nil for plain HTTP
}

// newHTTPChecker builds the HTTP check of target checked as sh says.
func newHTTPChecker(sh *shape, target netip.AddrPort) (*httpChecker, error) {
	spec := &sh.spec
	h := HTTPSpec{}
	if spec.HTTP != nil {
		h = *spec.HTTP
	}
	scheme := "http"
	if spec.Kind == KindHTTPS {
		scheme = "https"
	}
	path := h.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	g, err := newGetter(scheme+"://"+target.String()+path, h.Host, h.TLSServerName, h.TLSVerify, h.KeepAlive, h.MaxBody)
	if err != nil {
		return nil, fmt.Errorf("building %s check: %w", spec.Kind, err)
	}
	hs := sh.http
	if hs == nil {
		hs = &httpShape{status: h.Status, digest: strings.ToLower(h.Digest), noMatch: h.RegexNoMatch, dialer: dialer(spec, "tcp")}
		if h.Regex != "" {
			if hs.re, err = regexp.Compile(h.Regex); err != nil {
				return nil, fmt.Errorf("building %s check: regex: %w", spec.Kind, err)
			}
		}
		if hs.digest != "" {
			if b, err := hex.DecodeString(hs.digest); err != nil || len(b) != md5.Size {
				return nil, fmt.Errorf("building %s check: digest %q is not 32 hex digits", spec.Kind, h.Digest)
			}
		}
		if err := useTLSFiles(g.tls, h); err != nil {
			return nil, fmt.Errorf("building %s check: %w", spec.Kind, err)
		}
		hs.tls = g.tls
		sh.http = hs // only once it built: a failure is reported by each checker
	}
	g.dialer = hs.dialer
	if g.tls != nil && g.tls != hs.tls {
		// The server name may depend on the target (a verified check
		// without a host name); the CA pool and certificate do not.
		if g.tls.ServerName == hs.tls.ServerName {
			g.tls = hs.tls
		} else {
			c := hs.tls.Clone()
			c.ServerName = g.tls.ServerName
			g.tls = c
		}
	}
	return &httpChecker{spec: spec, target: target, sh: hs, get: g}, nil
}

// Check performs one GET under the spec's timeout, which bounds the whole
// request: connect, TLS, headers and body, so a trickling server cannot
// overrun it. The timeout runs from the first system call of the check.
func (c *httpChecker) Check(ctx context.Context) error {
	sh := c.sh
	res, err := c.get.do(ctx, c.spec.Timeout, sh.digest != "" || sh.re != nil)
	if err != nil {
		return describeFetch(ctx, c.get.url, c.spec.Timeout, res.phase, err)
	}
	if !statusOK(sh.status, res.status) {
		return fmt.Errorf("GET %s: HTTP status %d not in %s", c.get.url, res.status, rangesString(sh.status))
	}
	if sh.digest != "" && res.digest != sh.digest {
		return fmt.Errorf("GET %s: body digest %s != expected %s", c.get.url, res.digest, sh.digest)
	}
	if sh.re != nil && sh.re.Match(res.body) == sh.noMatch {
		if sh.noMatch {
			return fmt.Errorf("GET %s: body matches regex %q (regex_no_match)", c.get.url, sh.re.String())
		}
		return fmt.Errorf("GET %s: body does not match regex %q", c.get.url, sh.re.String())
	}
	return nil
}

// Close drops the kept-alive connection, if any. The scheduler calls it
// when the check is removed.
func (c *httpChecker) Close() error {
	if hc := c.get.takeIdle(); hc != nil {
		hc.conn.Close()
	}
	return nil
}

// describeFetch words a failed GET: a connect error as netErr does, a
// deadline as "timeout after D <phase>", anything else with its phase.
func describeFetch(ctx context.Context, rawURL string, timeout time.Duration, phase string, err error) error {
	if isTimeout(ctx, err) {
		return timeoutf("GET %s: timeout after %s %s", rawURL, timeout, phase)
	}
	var oe *net.OpError
	if phase == phaseConnect && errors.As(err, &oe) && oe.Op == "dial" {
		addr := rawURL
		if oe.Addr != nil {
			addr = oe.Addr.String()
		}
		return netErr(ctx, "connect", addr, timeout, err)
	}
	return fmt.Errorf("GET %s: %s: %w", rawURL, phase, err)
}

// Phases of a GET, named in errors.
const (
	phaseConnect = "connecting"
	phaseTLS     = "in TLS handshake"
	phaseSend    = "sending request"
	phaseHeaders = "waiting for response headers"
	phaseBody    = "reading body"
)

// getter is a minimal HTTP/1.1 GET client for checks: a prebuilt request
// written on a connection whose deadline is the context's, and the standard
// library's response parser. It starts no goroutines and keeps no pool.
//
// Connection reuse: off by default, so every check opens a new connection
// (as keepalived does) and proves the server still accepts them; a pooled
// connection would keep passing after the server stopped listening. With
// keepAlive one idle connection is kept per getter (per checker), and a
// reused connection that turns out stale is retried once on a new one.
type getter struct {
	url       string
	addr      string // host:port dialled
	request   []byte
	tls       *tls.Config // nil for plain HTTP
	keepAlive bool
	maxBody   int64
	dialer    *net.Dialer

	mu   sync.Mutex
	idle *httpConn
}

type httpConn struct {
	conn net.Conn
	br   *bufio.Reader
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

func newGetter(rawURL, host, serverName string, verify, keepAlive bool, maxBody int64) (*getter, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http or https URL", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	if host == "" {
		host = u.Host
	}
	reqURI := u.RequestURI()
	if strings.ContainsAny(reqURI+host, " \r\n") {
		return nil, fmt.Errorf("path or host contains a space or line break")
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: havsd-check\r\nAccept: */*\r\nAccept-Encoding: identity\r\n", reqURI, host)
	if !keepAlive {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	g := &getter{url: rawURL, addr: addr, request: []byte(b.String()), keepAlive: keepAlive,
		maxBody: maxBody, dialer: &net.Dialer{KeepAlive: -1}}
	if u.Scheme == "https" {
		if serverName == "" {
			serverName = host
			if h, _, err := net.SplitHostPort(host); err == nil {
				serverName = h
			}
			serverName = strings.Trim(serverName, "[]")
			if net.ParseIP(serverName) != nil {
				serverName = ""
			}
		}
		// Verification is off by default, as in keepalived.
		g.tls = &tls.Config{ServerName: serverName, InsecureSkipVerify: !verify}
		if verify && serverName == "" {
			g.tls.ServerName = u.Hostname()
		}
	}
	return g, nil
}

// fetchResult is what one GET returned; phase names the step an error hit.
type fetchResult struct {
	status int
	digest string // hex MD5 of the body, when read
	body   []byte // the body, when read
	phase  string
}

// do performs the GET. With readBody it reads at most maxBody bytes (an
// error if the body is longer) and computes the MD5 as keepalived's genhash
// does: hex MD5 of the body bytes as received after chunked decoding (no
// content decoding is asked for). Without it the body is not read, unless
// a kept-alive connection needs it drained.
//
// The timeout starts now, right before the connect (or the write on a
// kept-alive connection), and goes on the socket rather than into a
// context timer; ctx's deadline applies too when it is earlier.
func (g *getter) do(ctx context.Context, timeout time.Duration, readBody bool) (fetchResult, error) {
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if hc := g.takeIdle(); hc != nil {
		res, err, retry := g.exchange(ctx, deadline, hc, true, readBody)
		if !retry {
			return res, err
		}
	}
	res := fetchResult{phase: phaseConnect}
	hc, phase, err := g.connect(ctx, deadline)
	if err != nil {
		res.phase = phase
		return res, err
	}
	res, err, _ = g.exchange(ctx, deadline, hc, false, readBody)
	return res, err
}

func (g *getter) takeIdle() *httpConn {
	g.mu.Lock()
	defer g.mu.Unlock()
	hc := g.idle
	g.idle = nil
	return hc
}

func (g *getter) connect(ctx context.Context, deadline time.Time) (*httpConn, string, error) {
	d := *g.dialer
	d.Deadline = deadline
	conn, err := d.DialContext(ctx, "tcp", g.addr)
	if err != nil {
		return nil, phaseConnect, err
	}
	if g.tls != nil {
		conn.SetDeadline(deadline)
		tc := tls.Client(conn, g.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, phaseTLS, err
		}
		conn = tc
	}
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(conn)
	return &httpConn{conn: conn, br: br}, "", nil
}

// exchange writes the request and reads the response on hc. retry reports
// that a reused connection failed before any response byte: stale.
func (g *getter) exchange(ctx context.Context, deadline time.Time, hc *httpConn, reused, readBody bool) (res fetchResult, err error, retry bool) {
	keep := false
	stop := func() bool { return true }
	defer func() {
		if !stop() {
			keep = false // the deadline-breaker may still touch the connection
		}
		if keep {
			g.mu.Lock()
			if g.idle == nil {
				g.idle, hc = hc, nil
			}
			g.mu.Unlock()
		}
		if hc != nil {
			hc.conn.Close()
			hc.br.Reset(nil)
			readerPool.Put(hc.br)
		}
	}()
	hc.conn.SetDeadline(deadline)
	conn := hc.conn // hc may be handed to the idle slot while this runs
	stop = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })

	res.phase = phaseSend
	if _, err := hc.conn.Write(g.request); err != nil {
		return res, err, reused && ctx.Err() == nil
	}
	res.phase = phaseHeaders
	if !readBody && !g.keepAlive {
		// The status is all this check needs: no header map, no body.
		res.status, err = readStatus(hc.br)
		return res, err, false
	}
	resp, err := http.ReadResponse(hc.br, nil)
	if err != nil {
		stale := reused && ctx.Err() == nil && hc.br.Buffered() == 0 && !isTimeout(ctx, err)
		return res, err, stale
	}
	// No resp.Body.Close: it may drain the rest of the body (a trickling
	// server would hold the check until its deadline); the connection is
	// closed or, when kept, was read to the end of the body below.
	res.status = resp.StatusCode
	res.phase = phaseBody
	if readBody {
		body, err := io.ReadAll(io.LimitReader(resp.Body, g.maxBody+1))
		if err != nil {
			return res, err, false
		}
		if int64(len(body)) > g.maxBody {
			return res, fmt.Errorf("body larger than %d bytes", g.maxBody), false
		}
		sum := md5.Sum(body)
		res.body, res.digest = body, hex.EncodeToString(sum[:])
	} else if g.keepAlive {
		if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, g.maxBody)); err != nil {
			return res, err, false
		}
	}
	if g.keepAlive && !resp.Close {
		// Reusable only if the body was consumed to its end.
		n, _ := resp.Body.Read(make([]byte, 1))
		keep = n == 0
	}
	return res, nil, false
}

// readStatus reads an HTTP/1.x status line and skips the header lines up
// to the blank line that ends them, without allocating, and returns the
// status code.
func readStatus(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	code, err := parseStatusLine(line)
	if err != nil {
		return 0, err
	}
	for tail := false; ; {
		line, err := br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			tail = true // a long header line: read on to its end
			continue
		case err != nil:
			return 0, err
		case !tail && (len(line) == 1 || len(line) == 2 && line[0] == '\r'):
			return code, nil
		}
		tail = false
	}
}

// parseStatusLine returns the code of an HTTP/1.x status line.
func parseStatusLine(line []byte) (int, error) {
	code, ok := 0, len(line) >= 12 && bytes.HasPrefix(line, []byte("HTTP/1.")) && line[8] == ' '
	if ok {
		for _, c := range line[9:12] {
			ok = ok && c >= '0' && c <= '9'
			code = code*10 + int(c-'0')
		}
		ok = ok && (len(line) == 12 || line[12] == ' ' || line[12] == '\r' || line[12] == '\n')
	}
	if !ok {
		return 0, fmt.Errorf("malformed HTTP status line %q", bytes.TrimRight(line, "\r\n"))
	}
	return code, nil
}

func statusOK(ranges []StatusRange, code int) bool {
	if len(ranges) == 0 {
		return code >= 200 && code <= 299
	}
	for _, r := range ranges {
		if code >= r.Lo && code <= r.Hi {
			return true
		}
	}
	return false
}

func rangesString(ranges []StatusRange) string {
	if len(ranges) == 0 {
		return "200-299"
	}
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		if r.Lo == r.Hi {
			parts[i] = fmt.Sprint(r.Lo)
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r.Lo, r.Hi)
		}
	}
	return strings.Join(parts, ",")
}

// DigestRequest describes one fetch by Digest.
type DigestRequest struct {
	URL     string
	Host    string        // Host header (and TLS server name); empty for the URL's host
	Verify  bool          // verify the server certificate
	Timeout time.Duration // whole request; zero means DefaultTimeout
	MaxBody int64         // zero means DefaultMaxBody
}

// Digest GETs a URL and returns the status code and the body digest that an
// HTTP check's Digest field expects, as keepalived's genhash prints it.
func Digest(ctx context.Context, r DigestRequest) (status int, digest string, err error) {
	if r.Timeout <= 0 {
		r.Timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	g, err := newGetter(r.URL, r.Host, "", r.Verify, false, r.MaxBody)
	if err != nil {
		return 0, "", err
	}
	res, err := g.do(ctx, r.Timeout, true)
	if err != nil {
		return res.status, "", describeFetch(ctx, r.URL, r.Timeout, res.phase, err)
	}
	return res.status, res.digest, nil
}
