package checks

import (
	"fmt"
	"net/netip"
	"reflect"
	"time"
)

// Kind is the type of a health check. Its zero value is invalid.
type Kind uint8

// Check kinds.
const (
	KindInvalid Kind = iota
	KindTCP
	KindHTTP
	KindHTTPS
	KindScript
	KindUDP
	KindDNS
	KindPing
	KindSMTP // smtp.go
)

// String returns the configuration name of the kind ("tcp", "http", ...).
func (k Kind) String() string {
	switch k {
	case KindTCP:
		return "tcp"
	case KindHTTP:
		return "http"
	case KindHTTPS:
		return "https"
	case KindScript:
		return "script"
	case KindUDP:
		return "udp"
	case KindDNS:
		return "dns"
	case KindPing:
		return "ping"
	case KindSMTP:
		return "smtp"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Lo, Hi int }

// HTTPSpec configures an HTTP or HTTPS GET check.
type HTTPSpec struct {
	Path          string
	Host          string        // Host header; empty means the target address
	Status        []StatusRange // accepted codes; empty means 200-299
	Digest        string        // hex MD5 of the body as keepalived's genhash prints it; empty to skip
	Regex         string        // body must match; empty to skip
	TLSServerName string
	TLSVerify     bool  // verify the server certificate (default off, like keepalived)
	MaxBody       int64 // bytes read at most; 0 means a built-in default
	// KeepAlive reuses one idle connection per checker between checks.
	// Off by default: like keepalived, each check opens a new connection,
	// so a check proves that the server still accepts connections.
	KeepAlive bool
	// RegexNoMatch inverts Regex: the body must not match it (keepalived's
	// regex_no_match).
	RegexNoMatch bool
	// TLSCA, TLSCert and TLSKey are PEM files: the CA that verifies the
	// server (with TLSVerify) and a client certificate with its key.
	TLSCA, TLSCert, TLSKey string
}

// ScriptSpec configures a script check: argv is executed without a shell.
type ScriptSpec struct {
	Argv []string
	// Dynamic is keepalived's misc_dynamic: exit status 0 passes at the
	// configured weight, 1 fails, 2-255 passes and sets the weight to the
	// status − 2. Without it, any status but 0 fails.
	Dynamic bool
}

// UDPSpec configures a UDP check: send Payload, optionally expect a reply.
type UDPSpec struct {
	Payload     []byte
	ExpectReply bool
}

// DNSSpec configures a DNS check: query Name of Type and expect an answer.
type DNSSpec struct {
	Name string
	Type string // "A", "AAAA", ...
}

// Spec describes one health check of one real server.
type Spec struct {
	Kind              Kind
	Target            netip.AddrPort // address and port checked (port may differ from the real server's)
	Source            netip.Addr     // bind address; zero for the kernel's choice
	Interval, Timeout time.Duration
	// Retry is the number of consecutive failures before the server is
	// declared down; between them the check is retried after
	// DelayBeforeRetry. (keepalived's "retry N" retries N times after the
	// first failure: that is Retry N+1.) Rise is the number of consecutive
	// successes before it is declared up. Both default to 1.
	Retry, Rise      int
	DelayBeforeRetry time.Duration
	Warmup           time.Duration // random delay before the first check, at most this
	Alpha            bool          // start down until proven up
	HTTP             *HTTPSpec
	Script           *ScriptSpec
	UDP              *UDPSpec
	DNS              *DNSSpec
	SMTP             *SMTPSpec
	// BindIf binds the check's socket to this interface (keepalived's
	// bind_if, SO_BINDTODEVICE); empty for none. Not for ping or script.
	BindIf string
}

// Defaults applied by WithDefaults to zero fields, after keepalived's.
const (
	DefaultInterval         = 60 * time.Second // keepalived's delay_loop
	DefaultTimeout          = 5 * time.Second  // keepalived's connect_timeout
	DefaultDelayBeforeRetry = time.Second      // keepalived's delay_before_retry
	DefaultMaxBody          = 1 << 20          // bytes of HTTP body read at most
)

// WithDefaults returns a copy of s with zero timing and count fields set to
// their defaults. DelayBeforeRetry defaults to one second, capped at Interval.
func (s Spec) WithDefaults() Spec {
	if s.Interval <= 0 {
		s.Interval = DefaultInterval
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Retry <= 0 {
		s.Retry = 1
	}
	if s.Rise <= 0 {
		s.Rise = 1
	}
	if s.DelayBeforeRetry <= 0 {
		s.DelayBeforeRetry = min(DefaultDelayBeforeRetry, s.Interval)
	}
	if s.Warmup < 0 {
		s.Warmup = 0
	}
	return s
}

// failuresToDown is the number of consecutive failures that take an up
// server down: the one place where the scheduler reads Retry.
func (s Spec) failuresToDown() int { return max(s.Retry, 1) }

// Equal reports whether two specs describe the same check.
func (s Spec) Equal(o Spec) bool { return reflect.DeepEqual(s, o) }
