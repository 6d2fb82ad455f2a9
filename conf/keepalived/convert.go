package keepalived

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/havsd/havsd/conf"
)

// Result is a converted configuration: the havsd Config, and where each of
// its blocks came from in the keepalived files.
type Result struct {
	Config *conf.Config
	// Origins maps a block path ("vrrp_instance/VI_1",
	// "virtual_service/NAME", "virtual_service/NAME/real_server/ADDR",
	// "global", "vrrp_sync_group/G") to its keepalived statement.
	Origins map[string]Pos
	// Source is the main keepalived file.
	Source string
	global conf.Global // havsd's defaults, for files without a global block
}

// converter walks the tree once; handlers fill in the state below, and
// finish resolves keepalived's defaults and inheritance into the Config.
type converter struct {
	diags     Diagnostics
	global    globalState
	instances []*instance
	groups    []*group
	services  []*service
	trackers  []*tracker
	vsgs      map[string][]vsgEntry
	vsgNodes  map[string]*Node // each virtual_server_group's statement
	// The block being converted, for the handlers of its keywords.
	inst *instance
	grp  *group
	svc  *service
	rs   *real
	chk  *check
	url  *url
	trk  *tracker
}

// Convert turns a parsed keepalived configuration into a havsd one. The
// diagnostics name every keyword that was not carried over.
func Convert(p *Parsed) (*Result, Diagnostics) {
	c := &converter{}
	c.walk(scopeTop, p.Nodes)
	res := &Result{Config: &conf.Config{}, Origins: map[string]Pos{}, Source: p.Name}
	c.finish(res)
	sortDiags(c.diags)
	return res, slices.Compact(c.diags)
}

// walk converts each statement of a block by the table.
func (c *converter) walk(sc scope, nodes []*Node) {
	for _, n := range nodes {
		r, ok := lookup(sc, n.Keyword())
		if !ok && c.chk != nil && sc != scopeCheck && sc != scopeURL {
			r, ok = lookup(scopeCheck, n.Keyword())
		}
		switch {
		case !ok:
			c.unknown(sc, n)
		case r.apply == nil:
			c.left(n, r.what, r.closest)
		default:
			r.apply(c, n)
		}
	}
}

func (c *converter) unknown(sc scope, n *Node) {
	c.diags = append(c.diags, Diagnostic{Pos: n.Pos, Severity: NotConverted, Keyword: n.Keyword(),
		Message: fmt.Sprintf("unknown keyword in %s; keepalived ignores it with a warning", sc)})
}

// left reports a keyword havsd cannot express.
func (c *converter) left(n *Node, what, closest string) {
	c.diags = append(c.diags, Diagnostic{Pos: n.Pos, Severity: NotConverted, Keyword: n.Keyword(), Message: what, Closest: closest})
}

func (c *converter) leftWord(n *Node, word, what, closest string) {
	c.diags = append(c.diags, Diagnostic{Pos: n.Pos, Severity: NotConverted, Keyword: n.Keyword() + " " + word, Message: what, Closest: closest})
}

func (c *converter) note(n *Node, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: n.Pos, Severity: Note, Keyword: n.Keyword(), Message: fmt.Sprintf(format, args...)})
}

// invalid reports a value keepalived itself would reject and ignore.
func (c *converter) invalid(n *Node, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: n.Pos, Severity: NotConverted, Keyword: n.Keyword(),
		Message: fmt.Sprintf(format, args...) + "; keepalived ignores the setting"})
}

// arg returns the i-th argument or reports it missing.
func (c *converter) arg(n *Node, i int) (string, bool) {
	if len(n.Words) <= i {
		c.invalid(n, "missing value")
		return "", false
	}
	return n.Words[i], true
}

// extra reports arguments after the ones a keyword takes.
func (c *converter) extra(n *Node, want int) {
	if len(n.Words) > want+1 {
		c.leftWord(n, strings.Join(n.Words[want+1:], " "), "extra words keepalived does not take here", "")
	}
}

func (c *converter) integer(n *Node, lo, hi int64) (int64, bool) {
	s, ok := c.arg(n, 1)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		c.invalid(n, "%q is not an integer in %d..%d", s, lo, hi)
		return 0, false
	}
	c.extra(n, 1)
	return v, true
}

// timer reads keepalived's <TIMER>: seconds, fractions allowed, to the
// microsecond.
func (c *converter) timer(n *Node) (time.Duration, bool) {
	s, ok := c.arg(n, 1)
	if !ok {
		return 0, false
	}
	d, ok := seconds(s)
	if !ok {
		c.invalid(n, "%q is not a number of seconds", s)
		return 0, false
	}
	c.extra(n, 1)
	return d, true
}

func seconds(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e7 || math.IsNaN(f) {
		return 0, false
	}
	return time.Duration(math.Round(f*1e6)) * time.Microsecond, true
}

// boolean reads keepalived's optional <BOOL>: no argument means true.
func (c *converter) boolean(n *Node) (bool, bool) {
	if len(n.Words) == 1 {
		return true, true
	}
	c.extra(n, 1)
	switch strings.ToLower(n.Words[1]) {
	case "on", "true", "yes":
		return true, true
	case "off", "false", "no":
		return false, true
	}
	c.invalid(n, "%q is not one of on|off|true|false|yes|no", n.Words[1])
	return false, false
}

func (c *converter) addr(n *Node, i int) (netip.Addr, bool) {
	s, ok := c.arg(n, i)
	if !ok {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		c.invalid(n, "%q is not an IP address", s)
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// splitCommand splits a script string into argv: words separated by
// unquoted whitespace, quotes grouping, as keepalived runs scripts.
func splitCommand(s string) ([]string, error) {
	var argv []string
	var b strings.Builder
	in := false
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0 && ch == quote:
			quote = 0
		case quote != 0 && ch == '\\' && i+1 < len(s) && quote == '"':
			i++
			b.WriteByte(s[i])
		case quote != 0:
			b.WriteByte(ch)
		case ch == '\'' || ch == '"':
			quote, in = ch, true
		case ch == ' ' || ch == '\t':
			if in {
				argv = append(argv, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(ch)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote (%c) in %q", quote, s)
	}
	if in {
		argv = append(argv, b.String())
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return argv, nil
}

// command reads a script keyword: "PATH ARGS" [user [group]].
func (c *converter) command(n *Node) ([]string, bool) {
	s, ok := c.arg(n, 1)
	if !ok {
		return nil, false
	}
	argv, err := splitCommand(s)
	if err != nil {
		c.invalid(n, "%v", err)
		return nil, false
	}
	if strings.ContainsAny(s, "<>|&;`$(){}*?") {
		argv = []string{"/bin/sh", "-c", s}
		c.note(n, "the command needs a shell; havsd runs commands without one, so it is wrapped in /bin/sh -c")
	}
	if len(n.Words) > 2 {
		c.leftWord(n, strings.Join(n.Words[2:], " "), "runs the script as this user and group",
			"havsd runs commands as its own user; wrap the command in runuser or setpriv")
	}
	return argv, true
}
