package keepalived

import (
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/havsd/havsd/conf"
)

// checkDefaults are the check settings keepalived lets a virtual server and
// a real server set for the checks below them.
type checkDefaults struct {
	delayLoop, timeout, dbr, warmup opt[time.Duration]
	retry                           opt[int]
	alpha, inhibit                  opt[bool]
	host                            opt[string]
}

type service struct {
	node         *Node
	fwmark       uint32
	addr         netip.Addr
	port         uint16
	protocol     string
	family       string
	sched        string
	flags        []string
	persistence  time.Duration
	netmask      string
	engine       string
	forward      string
	quorum       opt[int]
	hysteresis   int
	weight       opt[int]
	defaults     checkDefaults
	reals        []*real
	sorry        *real
	group        string // virtual_server group NAME
	quorumUp     []string
	quorumDown   []string
	fromGroup    bool   // expanded from a virtual_server_group
	groupName    string // that group, for a member
	groupSvc     string // the member's virtual_service label (its name is groupSvc/MEMBER)
	sorryFwd     string
	tun          tunSpec // after lvs_method TUN (tunops.go)
	sorryTun     tunSpec
	ops          bool
	opsNode      *Node
	sorryInhibit bool
	omega        bool // run the down notifiers at shutdown
	label        string
}

type real struct {
	node                 *Node
	addr                 netip.Addr
	port                 uint16
	weight               opt[int]
	forward              string
	tun                  tunSpec
	upper                int
	lower                int
	defaults             checkDefaults
	checks               []*check
	notifyUp, notifyDown []string
	fileChecks           []*fileCheck // FILE_CHECK (filecheck.go)
}

type check struct {
	node        *Node
	kind        string // havsd's check kind
	own         checkDefaults
	port        opt[int]
	source      netip.Addr
	urls        []*url
	sni         string
	command     []string
	miscTimeout opt[time.Duration]
	dnsType     string
	dnsName     string
	payload     string
	reply       bool
	heloName    string // SMTP_CHECK
	connectIP   netip.Addr
	bindIf      string
	dynamic     bool // misc_dynamic
}

type url struct {
	node                      *Node
	path, digest, host, regex string
	status                    []string
	regexNoMatch              bool
}

// checkKinds maps keepalived's checkers to havsd's check kinds.
var checkKinds = map[string]string{"TCP_CHECK": "tcp", "HTTP_GET": "http", "SSL_GET": "https",
	"MISC_CHECK": "script", "DNS_CHECK": "dns", "UDP_CHECK": "udp", "PING_CHECK": "ping", "SMTP_CHECK": "smtp"}

func (c *converter) virtualServer(n *Node) {
	s := &service{node: n}
	args := n.Args()
	switch {
	case len(args) >= 2 && args[0] == "fwmark":
		v, err := strconv.ParseUint(args[1], 10, 32)
		if err != nil || v == 0 {
			c.invalid(n, "fwmark %q is not an integer in 1..4294967295", args[1])
			return
		}
		s.fwmark = uint32(v)
		s.family = "ipv4"
	case len(args) >= 2 && args[0] == "group":
		s.group = args[1]
	case len(args) >= 1:
		a, ok := c.addr(n, 1)
		if !ok {
			return
		}
		s.addr = a
		if len(args) >= 2 {
			p, err := strconv.ParseUint(args[1], 10, 16)
			if err != nil {
				c.invalid(n, "port %q is not in 0..65535", args[1])
				return
			}
			s.port = uint16(p)
		}
	default:
		c.invalid(n, "missing address, fwmark or group")
		return
	}
	c.services = append(c.services, s)
	c.svc = s
	c.walk(scopeVS, n.Children)
	c.svc = nil
}

func (c *converter) realServer(n *Node) {
	r, ok := c.realAddr(n)
	if !ok {
		return
	}
	c.svc.reals = append(c.svc.reals, r)
	c.rs = r
	c.walk(scopeRS, n.Children)
	c.rs = nil
}

func (c *converter) realAddr(n *Node) (*real, bool) {
	a, ok := c.addr(n, 1)
	if !ok {
		return nil, false
	}
	r := &real{node: n, addr: a}
	if len(n.Words) > 2 {
		p, err := strconv.ParseUint(n.Words[2], 10, 16)
		if err != nil {
			c.invalid(n, "port %q is not in 0..65535", n.Words[2])
			return nil, false
		}
		r.port = uint16(p)
	}
	c.extra(n, 2)
	return r, true
}

// hook reads a command (quorum_up, notify_up...) into the field of the
// block being converted.
func hook(field func(*converter) *[]string) func(*converter, *Node) {
	return func(c *converter, n *Node) {
		if argv, ok := c.command(n); ok {
			*field(c) = argv
		}
	}
}

func (c *converter) sorryServer(n *Node) {
	if r, ok := c.realAddr(n); ok {
		c.svc.sorry = r
	}
}

// defaults returns the check defaults of the innermost block being read.
func (c *converter) defaults() *checkDefaults {
	switch {
	case c.chk != nil:
		return &c.chk.own
	case c.rs != nil:
		return &c.rs.defaults
	}
	return &c.svc.defaults
}

func timerInto(field func(*checkDefaults) *opt[time.Duration]) func(c *converter, n *Node) {
	return func(c *converter, n *Node) {
		if d, ok := c.timer(n); ok {
			field(c.defaults()).put(d)
		}
	}
}

func (c *converter) retry(n *Node) {
	if v, ok := c.integer(n, 0, 1<<20); ok {
		c.defaults().retry.put(int(v))
	}
}

func (c *converter) alpha(n *Node) {
	if v, ok := c.boolean(n); ok {
		c.defaults().alpha.put(v)
	}
}

func (c *converter) inhibit(n *Node) {
	if v, ok := c.boolean(n); ok {
		c.defaults().inhibit.put(v)
	}
}

func (c *converter) virtualhost(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		if c.url != nil {
			c.url.host = s
			return
		}
		c.defaults().host.put(s)
	}
}

func (c *converter) sched(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		if !slices.Contains(conf.Schedulers, s) {
			c.invalid(n, "%q is not an IPVS scheduler (%s)", s, strings.Join(conf.Schedulers, ", "))
			return
		}
		c.svc.sched = s
	}
}

func (c *converter) schedFlag(n *Node) {
	c.extra(n, 0)
	c.svc.flags = append(c.svc.flags, n.Keyword())
}

// method reads NAT|DR|TUN [tunnel options] (lvs_method, lb_kind,
// sorry_server_lvs_method).
func (c *converter) method(n *Node) (string, tunSpec, bool) {
	s, ok := c.arg(n, 1)
	if !ok {
		return "", tunSpec{}, false
	}
	m := map[string]string{"NAT": "nat", "DR": "dr", "TUN": "tun"}[strings.ToUpper(s)]
	if m == "" {
		c.invalid(n, "%q is not NAT, DR or TUN", s)
		return "", tunSpec{}, false
	}
	if m != "tun" || len(n.Words) == 2 {
		c.extra(n, 1)
		return m, tunSpec{}, true
	}
	t, ok := c.tunOptions(n, n.Words[2:])
	return m, t, ok
}

func (c *converter) lvsMethod(n *Node) {
	if m, t, ok := c.method(n); ok {
		if c.rs != nil {
			c.rs.forward, c.rs.tun = m, t
		} else {
			c.svc.forward, c.svc.tun = m, t
		}
	}
}

func (c *converter) sorryMethod(n *Node) {
	if m, t, ok := c.method(n); ok {
		c.svc.sorryFwd, c.svc.sorryTun = m, t
	}
}

func (c *converter) protocol(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		p := strings.ToLower(s)
		if p != "tcp" && p != "udp" && p != "sctp" {
			c.invalid(n, "%q is not TCP, UDP or SCTP", s)
			return
		}
		c.svc.protocol = p
	}
}

func (c *converter) ipFamily(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		switch s {
		case "inet":
			c.svc.family = "ipv4"
		case "inet6":
			c.svc.family = "ipv6"
		default:
			c.invalid(n, "%q is not inet or inet6", s)
		}
	}
}

func (c *converter) persistenceTimeout(n *Node) {
	if len(n.Words) == 1 {
		c.svc.persistence = 360 * time.Second // keepalived's default, 6 minutes
		return
	}
	if v, ok := c.integer(n, 1, 31*24*3600); ok {
		c.svc.persistence = time.Duration(v) * time.Second
	}
}

func (c *converter) granularity(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		c.svc.netmask = s
	}
}

func (c *converter) engine(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		c.svc.engine = s
	}
}

func (c *converter) quorum(n *Node) {
	if v, ok := c.integer(n, 1, 1<<31-1); ok {
		c.svc.quorum.put(int(v))
	}
}

func (c *converter) hysteresis(n *Node) {
	if v, ok := c.integer(n, 0, 1<<31-1); ok {
		c.svc.hysteresis = int(v)
	}
}

func (c *converter) weight(n *Node) {
	v, ok := c.integer(n, 0, 65535)
	if !ok {
		return
	}
	if c.rs != nil {
		c.rs.weight.put(int(v))
	} else {
		c.svc.weight.put(int(v))
	}
}

func threshold(upper bool) func(*converter, *Node) {
	return func(c *converter, n *Node) {
		if v, ok := c.integer(n, 0, 1<<31-1); ok {
			if upper {
				c.rs.upper = int(v)
			} else {
				c.rs.lower = int(v)
			}
		}
	}
}

// checker converts TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, DNS_CHECK,
// UDP_CHECK and PING_CHECK blocks.
func (c *converter) checker(n *Node) {
	c.extra(n, 0)
	k := &check{node: n, kind: checkKinds[n.Keyword()]}
	c.rs.checks = append(c.rs.checks, k)
	c.chk = k
	c.walk(checkScopes[n.Keyword()], n.Children)
	c.chk = nil
}

func (c *converter) connectPort(n *Node) {
	if v, ok := c.integer(n, 1, 65535); ok {
		c.chk.port.put(int(v))
	}
}

func (c *converter) bindto(n *Node) {
	if a, ok := c.addr(n, 1); ok {
		c.extra(n, 1)
		c.chk.source = a
	}
}

func (c *converter) urlBlock(n *Node) {
	u := &url{node: n}
	c.chk.urls = append(c.chk.urls, u)
	c.url = u
	c.walk(scopeURL, n.Children)
	c.url = nil
}

func urlString(field func(*url) *string) func(*converter, *Node) {
	return func(c *converter, n *Node) {
		if s, ok := c.arg(n, 1); ok {
			c.extra(n, 1)
			*field(c.url) = s
		}
	}
}

func (c *converter) statusCode(n *Node) {
	if len(n.Words) < 2 {
		c.invalid(n, "missing value")
		return
	}
	c.url.status = append(c.url.status, n.Args()...)
}

func (c *converter) sniName(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		c.chk.sni = s
	}
}

func (c *converter) enableSNI(n *Node) {
	c.extra(n, 0)
	if c.chk.sni == "" {
		c.chk.sni = "\x00virtualhost" // resolved to the check's host at the end
	}
}

func (c *converter) miscPath(n *Node) {
	if argv, ok := c.command(n); ok {
		c.chk.command = argv
	}
}

func (c *converter) miscTimeout(n *Node) {
	if v, ok := c.integer(n, 0, 1<<31-1); ok {
		c.chk.miscTimeout.put(time.Duration(v) * time.Second)
	}
}

func (c *converter) dnsType(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		t := strings.ToUpper(s)
		switch t {
		case "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA":
			c.chk.dnsType = t
		default:
			c.invalid(n, "%q is not A, NS, CNAME, SOA, MX, TXT or AAAA", s)
		}
	}
}

func (c *converter) dnsName(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		c.chk.dnsName = s
	}
}

// hexString reads keepalived's free-form HEX_STR ("Ab12f 3 456").
func hexString(words []string) ([]byte, bool) {
	var out []byte
	for _, w := range words {
		if len(w)%2 == 1 { // a trailing odd digit is a byte of its own: "f" is 0x0f
			w = w[:len(w)-1] + "0" + w[len(w)-1:]
		}
		b, err := hex.DecodeString(w)
		if err != nil {
			return nil, false
		}
		out = append(out, b...)
	}
	return out, true
}

func (c *converter) payload(n *Node) {
	b, ok := hexString(n.Args())
	if !ok || len(n.Words) < 2 {
		c.invalid(n, "%q is not a hex string", strings.Join(n.Args(), " "))
		return
	}
	if !utf8.Valid(b) {
		c.left(n, "sends these bytes as the UDP probe", "payload is text in havsd; these bytes are not UTF-8")
		return
	}
	c.chk.payload = string(b)
}

func (c *converter) requireReply(n *Node) {
	c.chk.reply = true
	if len(n.Words) > 1 {
		c.leftWord(n, strings.Join(n.Args(), " "), "compares the reply with these bytes", "expect_reply = true accepts any reply")
	}
}
