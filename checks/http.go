package checks

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

// httpChecker performs a GET and checks status, body digest and regex.
//
// Connection reuse: each checker owns its own http.Transport. By default
// keep-alives are disabled, so every check opens a new connection (as
// keepalived does) and proves the server still accepts them; nothing is
// pooled between targets, so a dead target cannot starve another's pool.
// With HTTPSpec.KeepAlive one idle connection per checker is kept.
type httpChecker struct {
	spec   Spec
	url    string
	client *http.Client
	re     *regexp.Regexp
	digest string
}

func newHTTPChecker(spec Spec) (*httpChecker, error) {
	h := spec.HTTP
	if h == nil {
		h = &HTTPSpec{}
	}
	scheme := "http"
	if spec.Kind == KindHTTPS {
		scheme = "https"
	}
	path := h.Path
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := scheme + "://" + spec.Target.String() + path
	if _, err := url.Parse(u); err != nil {
		return nil, fmt.Errorf("building %s check: %w", spec.Kind, err)
	}
	c := &httpChecker{spec: spec, url: u, digest: strings.ToLower(h.Digest)}
	if h.Regex != "" {
		re, err := regexp.Compile(h.Regex)
		if err != nil {
			return nil, fmt.Errorf("building %s check: regex: %w", spec.Kind, err)
		}
		c.re = re
	}
	if c.digest != "" {
		if b, err := hex.DecodeString(c.digest); err != nil || len(b) != md5.Size {
			return nil, fmt.Errorf("building %s check: digest %q is not 32 hex digits", spec.Kind, h.Digest)
		}
	}
	c.client = newHTTPClient(spec, h)
	return c, nil
}

// newHTTPClient builds a client that never follows redirects (the status is
// checked as is) and whose transport dials from the spec's source address.
func newHTTPClient(spec Spec, h *HTTPSpec) *http.Client {
	tr := &http.Transport{
		DialContext:           dialer(spec, "tcp").DialContext,
		DisableKeepAlives:     !h.KeepAlive,
		MaxIdleConns:          1,
		MaxIdleConnsPerHost:   1,
		MaxConnsPerHost:       0,
		IdleConnTimeout:       max(2*spec.Interval, 10*time.Second),
		ResponseHeaderTimeout: 0, // the whole-request context deadline applies
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		TLSClientConfig: &tls.Config{
			ServerName:         h.TLSServerName,
			InsecureSkipVerify: !h.TLSVerify, // keepalived does not verify either
		},
	}
	if tr.TLSClientConfig.ServerName == "" && h.Host != "" {
		host := h.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		tr.TLSClientConfig.ServerName = host
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Check performs one GET under the spec's timeout, which bounds the whole
// request: connect, headers and body, so a trickling server cannot overrun it.
func (c *httpChecker) Check(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx, c.spec.Timeout)
	defer cancel()
	h := c.spec.HTTP
	if h == nil {
		h = &HTTPSpec{}
	}
	res, err := fetch(ctx, c.client, c.url, h.Host, h.MaxBody, c.digest != "" || c.re != nil)
	if err != nil {
		return c.describe(ctx, res.phase, err)
	}
	if !statusOK(h.Status, res.status) {
		return fmt.Errorf("GET %s: HTTP status %d not in %s", c.url, res.status, rangesString(h.Status))
	}
	if c.digest != "" && res.digest != c.digest {
		return fmt.Errorf("GET %s: body digest %s != expected %s", c.url, res.digest, c.digest)
	}
	if c.re != nil && !c.re.Match(res.body) {
		return fmt.Errorf("GET %s: body does not match regex %q", c.url, c.re.String())
	}
	return nil
}

func (c *httpChecker) describe(ctx context.Context, phase string, err error) error {
	return describeFetch(ctx, c.url, c.spec.Timeout, phase, err)
}

// describeFetch words a failed GET: a connect error as netErr does, a
// deadline as "timeout after D <phase>", anything else with its phase.
func describeFetch(ctx context.Context, rawURL string, timeout time.Duration, phase string, err error) error {
	if isTimeout(ctx, err) {
		return fmt.Errorf("GET %s: timeout after %s %s", rawURL, timeout, phase)
	}
	var oe *net.OpError
	if phase == "connecting" && errors.As(err, &oe) && oe.Op == "dial" {
		addr := rawURL
		if oe.Addr != nil {
			addr = oe.Addr.String()
		}
		return netErr(ctx, "connect", addr, timeout, err)
	}
	return fmt.Errorf("GET %s: %s: %w", rawURL, phase, unwrapURLError(err))
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// fetchResult is what one GET returned; phase names the step an error hit.
type fetchResult struct {
	status int
	digest string // hex MD5 of the body, when read
	body   []byte // the body, when read
	phase  string
}

// fetch GETs rawURL. With readBody it reads at most maxBody bytes (an error
// if the body is longer) and computes the MD5 as keepalived's genhash does:
// hex MD5 of the body bytes as received (after chunked decoding, before any
// content decoding). Without it, the body is drained (bounded) or dropped.
func fetch(ctx context.Context, client *http.Client, rawURL, host string, maxBody int64, readBody bool) (fetchResult, error) {
	res := fetchResult{phase: "connecting"}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return res, err
	}
	if host != "" {
		req.Host = host
	}
	req.Header.Set("User-Agent", "havsd-check")
	req.Header.Set("Accept-Encoding", "identity")
	trace := &phaseTrace{res: &res}
	req = req.WithContext(trace.context(ctx))
	resp, err := client.Do(req)
	if err != nil {
		trace.settle()
		return res, err
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	res.phase = "reading body"
	if !readBody {
		if !client.Transport.(*http.Transport).DisableKeepAlives {
			_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		}
		return res, err
	}
	sum := md5.New()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return res, err
	}
	if int64(len(body)) > maxBody {
		return res, fmt.Errorf("body larger than %d bytes", maxBody)
	}
	sum.Write(body)
	res.body = body
	res.digest = hex.EncodeToString(sum.Sum(nil))
	return res, nil
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

// phaseTrace records how far a request got, so that an error or a timeout
// can say "connecting", "waiting for response headers" or "reading body".
type phaseTrace struct {
	res  *fetchResult
	step atomic.Int32
}

var phaseNames = [...]string{"connecting", "in TLS handshake", "waiting for response headers", "reading response headers"}

func (p *phaseTrace) context(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		TLSHandshakeStart:    func() { p.step.Store(1) },
		GotConn:              func(httptrace.GotConnInfo) { p.step.Store(2) },
		GotFirstResponseByte: func() { p.step.Store(3) },
	})
}

// settle copies the recorded phase into the result.
func (p *phaseTrace) settle() { p.res.phase = phaseNames[p.step.Load()] }

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
	h := &HTTPSpec{Host: r.Host, TLSVerify: r.Verify}
	client := newHTTPClient(Spec{Interval: r.Timeout}, h)
	res, err := fetch(ctx, client, r.URL, r.Host, r.MaxBody, true)
	if err != nil {
		return res.status, "", describeFetch(ctx, r.URL, r.Timeout, res.phase, err)
	}
	return res.status, res.digest, nil
}
