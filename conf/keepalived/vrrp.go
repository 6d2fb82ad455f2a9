package keepalived

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/vrrp"
)

// opt is a setting that may or may not have been written.
type opt[T any] struct {
	v   T
	set bool
}

func (o *opt[T]) put(v T) { o.v, o.set = v, true }

func (o opt[T]) or(def T) T {
	if o.set {
		return o.v
	}
	return def
}

// garpSettings are keepalived's gratuitous ARP knobs, global or per instance.
type garpSettings struct {
	delay, refresh, interval opt[time.Duration]
	repeat                   opt[int]
	min                      opt[bool]
}

type globalState struct {
	node                 *Node
	routerID             string
	version              opt[int]
	garp                 garpSettings
	tcp, tcpFin, udp     time.Duration
	prune                bool
	scriptUser           string
	sync                 *syncDaemon
	fifo                 string
	vrrpStrict, anything bool
	ssl                  sslSettings // the top-level SSL block (ssl.go)
}

type instance struct {
	node         *Node
	cfg          vrrp.Config
	state        *Node // state MASTER|BACKUP
	master       bool
	nopreempt    *Node
	preemptDelay *Node
	priority     opt[int]
	version      opt[int]
	advert       opt[time.Duration]
	advertNode   *Node
	garp         garpSettings
	ifWeights    []conf.InterfaceWeight // track_interface with keepalived's signs
	uses         []trackUse
	vipSeen      map[netip.Addr]bool
}

type group struct {
	node *Node
	cfg  vrrp.SyncGroup
	uses []trackUse
}

func (c *converter) globalDefs(n *Node) {
	c.global.node = n
	c.walk(scopeGlobal, n.Children)
}

func (c *converter) vrrpInstance(n *Node) {
	name, ok := c.arg(n, 1)
	if !ok {
		return
	}
	c.extra(n, 1)
	in := &instance{node: n, cfg: vrrp.Config{Name: name, Preempt: true}}
	c.instances = append(c.instances, in)
	c.inst = in
	c.walk(scopeInstance, n.Children)
	c.inst = nil
}

func (c *converter) syncGroup(n *Node) {
	name, ok := c.arg(n, 1)
	if !ok {
		return
	}
	c.extra(n, 1)
	g := &group{node: n, cfg: vrrp.SyncGroup{Name: name}}
	c.groups = append(c.groups, g)
	c.grp = g
	c.walk(scopeGroup, n.Children)
	c.grp = nil
}

func (c *converter) groupMembers(n *Node) {
	for _, m := range n.Children {
		c.grp.cfg.Instances = append(c.grp.cfg.Instances, m.Words...)
	}
}

// notify returns the Notify of the instance or group being converted.
func (c *converter) notify() *vrrp.Notify {
	if c.inst != nil {
		return &c.inst.cfg.Notify
	}
	return &c.grp.cfg.Notify
}

func notifyInto(field func(*vrrp.Notify) *[]string) func(c *converter, n *Node) {
	return func(c *converter, n *Node) {
		if argv, ok := c.command(n); ok {
			*field(c.notify()) = argv
		}
	}
}

func (c *converter) state(n *Node) {
	s, ok := c.arg(n, 1)
	if !ok {
		return
	}
	c.extra(n, 1)
	switch strings.ToUpper(s) {
	case "MASTER":
		c.inst.state, c.inst.master = n, true
	case "BACKUP":
		c.inst.state, c.inst.master = n, false
	default:
		c.invalid(n, "%q is not MASTER or BACKUP", s)
	}
}

func (c *converter) vrid(n *Node) {
	if v, ok := c.integer(n, 1, 255); ok {
		c.inst.cfg.VRID = uint8(v)
	}
}

func (c *converter) priority(n *Node) {
	if v, ok := c.integer(n, 1, 255); ok {
		c.inst.priority.put(int(v))
	}
}

func (c *converter) advertInt(n *Node) {
	if d, ok := c.timer(n); ok {
		if d <= 0 {
			c.invalid(n, "advert_int must be positive")
			return
		}
		c.inst.advert.put(d)
		c.inst.advertNode = n
	}
}

func (c *converter) instVersion(n *Node) {
	if v, ok := c.integer(n, 2, 3); ok {
		c.inst.version.put(int(v))
	}
}

func (c *converter) globalVersion(n *Node) {
	if v, ok := c.integer(n, 2, 3); ok {
		c.global.version.put(int(v))
	}
}

func (c *converter) iface(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		c.inst.cfg.Interface = s
	}
}

func (c *converter) nopreempt(n *Node) {
	c.extra(n, 0)
	c.inst.nopreempt = n
}

func (c *converter) preempt(n *Node) {
	c.extra(n, 0)
	c.inst.nopreempt = nil
}

func (c *converter) preemptDelay(n *Node) {
	if d, ok := c.timer(n); ok {
		if d > 1000*time.Second {
			c.invalid(n, "preempt_delay is at most 1000 seconds")
			return
		}
		c.inst.cfg.PreemptDelay = d
		c.inst.preemptDelay = n
	}
}

func (c *converter) unicastSrc(n *Node) {
	if a, ok := c.addr(n, 1); ok {
		c.extra(n, 1)
		c.inst.cfg.UnicastSource = a
	}
}

func (c *converter) unicastPeers(n *Node) {
	for _, m := range n.Children {
		a, err := netip.ParseAddr(m.Keyword())
		if err != nil {
			c.invalid(m, "%q is not an IP address", m.Keyword())
			continue
		}
		if len(m.Words) > 1 {
			c.leftWord(m, strings.Join(m.Words[1:], " "), "checks the TTL of adverts from this peer against a range",
				"havsd requires TTL 255 from every peer")
		}
		c.inst.cfg.UnicastPeers = append(c.inst.cfg.UnicastPeers, a.Unmap())
	}
}

// authentication converts authentication { auth_type PASS auth_pass X }.
func (c *converter) authentication(n *Node) {
	kind, pass := "PASS", ""
	var passNode *Node
	for _, m := range n.Children {
		switch m.Keyword() {
		case "auth_type":
			if s, ok := c.arg(m, 1); ok {
				kind = strings.ToUpper(s)
			}
		case "auth_pass":
			if s, ok := c.arg(m, 1); ok {
				pass, passNode = s, m
			}
		default:
			c.unknown(scopeAuth, m)
		}
	}
	if kind != "PASS" {
		c.left(n, "IPsec AH authentication of adverts (auth_type "+kind+")", "none; unicast peers with TTL 255 checks, or auth_pass with auth_type PASS")
		return
	}
	if passNode == nil {
		return
	}
	if len(pass) > 8 {
		c.note(passNode, "keepalived uses only the first 8 characters of the password; so does the converted auth_pass")
		pass = pass[:8]
	}
	c.inst.cfg.AuthPass = pass
}

// vips converts virtual_ipaddress { ADDR[/MASK] [dev DEV] [options] }.
func (c *converter) vips(n *Node) {
	for _, m := range n.Children {
		p, ok := parseVIP(m.Keyword())
		if !ok {
			c.invalid(m, "%q is not an address or prefix", m.Keyword())
			continue
		}
		v := vrrp.VIP{Prefix: p}
		opts := m.Args()
		for i := 0; i < len(opts); i++ {
			o := opts[i]
			takesValue := vipValueOpts[o]
			if o == "dev" && i+1 < len(opts) {
				v.Dev = opts[i+1]
				i++
				continue
			}
			word := o
			if takesValue && i+1 < len(opts) {
				word += " " + opts[i+1]
				i++
			}
			c.diags = append(c.diags, Diagnostic{Pos: m.Pos, Severity: NotConverted, Keyword: "virtual_ipaddress " + word,
				Message: "an option of the virtual address " + m.Keyword() + " (as ip address add takes it)",
				Closest: "havsd adds the address with its prefix, on dev if given"})
		}
		if c.inst.vipSeen == nil {
			c.inst.vipSeen = map[netip.Addr]bool{}
		}
		if c.inst.vipSeen[p.Addr()] {
			c.note(m, "%s is listed twice; keepalived adds it once, and so does havsd", p.Addr())
			continue
		}
		c.inst.vipSeen[p.Addr()] = true
		c.inst.cfg.VIPs = append(c.inst.cfg.VIPs, v)
	}
}

var vipValueOpts = map[string]bool{"brd": true, "dev": true, "scope": true, "label": true, "peer": true, "preferred_lft": true}

func parseVIP(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// trackInterface converts track_interface { IF [weight W] }: weight 0 is a
// fault while down; -W lowers the priority by W while down; +W raises it by
// W while up. havsd takes the same signed weights.
func (c *converter) trackInterface(n *Node) {
	for _, m := range n.Children {
		t := vrrp.TrackInterface{Name: m.Keyword()}
		args := m.Args()
		if len(args) >= 2 && args[0] == "weight" {
			v, err := parseWeight(args[1])
			if err != nil {
				c.invalid(m, "weight %q is not an integer in -253..253", args[1])
				continue
			}
			iw := conf.InterfaceWeight{Name: t.Name, Weight: v}
			args = args[2:]
			if len(args) > 0 && args[0] == "reverse" {
				if v == 0 {
					c.left(m, "weight 0 reverse puts the instance in FAULT while the interface is up; the interface is not tracked", "none")
					continue
				}
				iw.Reverse, args = true, args[1:]
			} else if len(args) > 0 && args[0] == "noreverse" {
				args = args[1:]
			}
			t.Weight = max(v, -v)
			if iw.Reverse {
				t.Weight = -t.Weight
			}
			c.inst.ifWeights = append(c.inst.ifWeights, iw)
		}
		if len(args) > 0 {
			c.leftWord(m, strings.Join(args, " "), "extra words keepalived does not take here", "")
		}
		c.inst.cfg.Track = append(c.inst.cfg.Track, t)
	}
}

func parseWeight(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < -253 || v > 253 {
		return 0, errors.New("bad weight")
	}
	return v, nil
}
