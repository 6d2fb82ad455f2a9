package ipvsadm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/havsd/havsd/lvs"
)

// DefaultPersistence is the timeout ipvsadm gives `-p` without a value
// (IPVS_SVC_PERSISTENT_TIMEOUT, 6 minutes).
const DefaultPersistence = 360 * time.Second

// maxTimeout is ipvsadm's largest persistence timeout (31 days).
const maxTimeout = 31 * 24 * time.Hour

// ParseError is an error in one line of the input.
type ParseError struct {
	Line int // 1-based line number
	Err  error
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads rules in `ipvsadm -S -n` format (and the other spellings
// ipvsadm -R accepts for -A and -a lines: long options, `--opt=value`,
// omitted scheduler, weight, forwarding method or real-server port) and
// returns the services in Normalize order. Blank lines and lines starting
// with '#' are skipped; `-C` clears what was read so far. Defaults are
// ipvsadm's: scheduler wlc, weight 1, forwarding -g, `-p` alone 360s, a
// real server without a port takes the service's, and a DR or tunnel real
// server of a non-fwmark service always has the service's port.
//
// The table `ipvsadm -L -n` prints is read too (its lines are turned into
// the rules they show; connection counters are ignored). Every bad line is
// reported: the error joins one *ParseError per line (errors.As finds the
// first), and the real servers of a service that failed are not reported
// again.
func Parse(r io.Reader) ([]lvs.Service, error) {
	p := &parser{index: map[lvs.ServiceKey]int{}, failed: map[lvs.ServiceKey]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	var errs []error
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		args, err := p.listed(fields)
		if err == nil && args != nil {
			err = p.line(args)
		}
		if err != nil && listedService[fields[0]] {
			p.current = nil // its real servers are not errors of their own
		}
		if err != nil {
			errs = append(errs, &ParseError{Line: line, Err: err})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading ipvsadm rules: %w", err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return Normalize(p.svcs), nil
}

type parser struct {
	svcs   []lvs.Service
	index  map[lvs.ServiceKey]int
	failed map[lvs.ServiceKey]bool // services whose -A line failed
	// current is the service option of the last service line of an
	// ipvsadm -Ln table ("-t", "192.0.2.1:80"), for its "->" lines.
	current []string
	// afterTable is set once a line of an ipvsadm -Ln table was read.
	afterTable bool
}

// rule is one parsed command line.
type rule struct {
	cmd      byte // 'A', 'a' or 'C'
	key      lvs.ServiceKey
	hasKey   bool
	sched    string
	flags    string
	persist  *time.Duration
	netmask  string
	pe       string
	dest     string
	forward  lvs.Forward
	weight   int
	upper    uint32
	lower    uint32
	tunType  string
	tunPort  string
	tunFlags lvs.TunFlags
	ops      bool
	ipv6Flag bool
}

// option spellings: short and long names of options taking a value.
var valueOpts = map[string]string{
	"-t": "t", "--tcp-service": "t",
	"-u": "u", "--udp-service": "u",
	"--sctp-service": "sctp",
	"-f":             "f", "--fwmark-service": "f",
	"-s": "s", "--scheduler": "s",
	"-M": "M", "--netmask": "M",
	"--pe": "pe",
	"-b":   "b", "--sched-flags": "b",
	"-r": "r", "--real-server": "r",
	"-w": "w", "--weight": "w",
	"-x": "x", "--u-threshold": "x",
	"-y": "y", "--l-threshold": "y",
	"--tun-type": "tun-type",
	"--tun-port": "tun-port",
}

var flagOpts = map[string]string{
	"-A": "A", "--add-service": "A",
	"-a": "a", "--add-server": "a",
	"-C": "C", "--clear": "C",
	"-m": "m", "--masquerading": "m",
	"-g": "g", "--gatewaying": "g",
	"-i": "i", "--ipip": "i",
	"-6": "6", "--ipv6": "6",
	"-n": "n", "--numeric": "n",
	"-o": "o", "--ops": "o",
	"--tun-nocsum": "tun-nocsum",
	"--tun-csum":   "tun-csum", "--tun-remcsum": "tun-remcsum",
}

func (p *parser) line(args []string) (err error) {
	r := rule{weight: 1, forward: lvs.Route}
	defer func() {
		if err != nil && r.cmd == 'A' && r.hasKey {
			p.failed[r.key] = true
		}
	}()
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, val, hasVal := strings.Cut(arg, "=")
		if !strings.HasPrefix(arg, "--") {
			name, hasVal = arg, false
		}
		if name == "-p" || name == "--persistent" {
			d := DefaultPersistence
			if !hasVal && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				val, hasVal = args[i], true
			}
			if hasVal {
				n, err := strconv.ParseUint(val, 10, 32)
				if err != nil || n < 1 || time.Duration(n)*time.Second > maxTimeout {
					return fmt.Errorf("invalid timeout value %q specified", val)
				}
				d = time.Duration(n) * time.Second
			}
			r.persist = &d
			continue
		}
		if opt, ok := flagOpts[name]; ok {
			if hasVal {
				return fmt.Errorf("option %s takes no value", name)
			}
			if err := r.flag(opt); err != nil {
				return err
			}
			continue
		}
		opt, ok := valueOpts[name]
		if !ok {
			return fmt.Errorf("unknown option %q", arg)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return fmt.Errorf("option %s needs a value", name)
			}
			i++
			val = args[i]
		}
		if err := r.value(opt, val); err != nil {
			return err
		}
	}
	return p.apply(r)
}

func (r *rule) setCmd(c byte) error {
	if r.cmd != 0 {
		return errors.New("more than one command on a line")
	}
	r.cmd = c
	return nil
}

func (r *rule) flag(opt string) error {
	switch opt {
	case "A":
		return r.setCmd('A')
	case "a":
		return r.setCmd('a')
	case "C":
		return r.setCmd('C')
	case "m":
		r.forward = lvs.Masq
	case "g":
		r.forward = lvs.Route
	case "i":
		r.forward = lvs.Tunnel
	case "6":
		if r.key.FWMark == 0 {
			return errors.New("-6 used before -f")
		}
		r.key.Family = lvs.IPv6
	case "o":
		r.ops = true
	case "tun-csum":
		r.tunFlags = lvs.TunCsum
	case "tun-remcsum":
		r.tunFlags = lvs.TunRemCsum
	case "n", "tun-nocsum":
		// -n is the default here; nocsum is the default tunnel flag.
	}
	return nil
}

func (r *rule) value(opt, val string) error {
	switch opt {
	case "t", "u", "sctp":
		if r.hasKey {
			return errors.New("more than one service given")
		}
		a, port, _, err := parseAddrPort(val)
		if err != nil {
			return fmt.Errorf("illegal virtual server address[:port] %q", val)
		}
		r.key = lvs.ServiceKey{Family: lvs.FamilyOf(a), Addr: a, Port: port}
		r.key.Proto = map[string]lvs.Protocol{"t": lvs.TCP, "u": lvs.UDP, "sctp": lvs.SCTP}[opt]
		r.hasKey = true
	case "f":
		if r.hasKey {
			return errors.New("more than one service given")
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil || n == 0 {
			return fmt.Errorf("invalid fwmark value %q specified", val)
		}
		r.key = lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.ProtoNone, FWMark: uint32(n)}
		r.hasKey = true
	case "s":
		r.sched = val
	case "M":
		r.netmask = val
	case "pe":
		r.pe = val
	case "b":
		r.flags = val
	case "r":
		r.dest = val
	case "w":
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("illegal weight %q specified", val)
		}
		r.weight = n
	case "x", "y":
		n, err := strconv.ParseUint(val, 10, 31)
		if err != nil {
			return fmt.Errorf("illegal threshold %q specified", val)
		}
		if opt == "x" {
			r.upper = uint32(n)
		} else {
			r.lower = uint32(n)
		}
	case "tun-type":
		if _, ok := tunTypes[val]; !ok {
			return fmt.Errorf("tunnel type %q is not ipip, gue or gre", val)
		}
		r.tunType = val
	case "tun-port":
		r.tunPort = val
	}
	return nil
}

func (p *parser) apply(r rule) error {
	switch r.cmd {
	case 0:
		return errors.New("no command: want -A or -a")
	case 'C':
		p.svcs, p.index = nil, map[lvs.ServiceKey]int{}
		return nil
	}
	if !r.hasKey {
		return errors.New("no service given: want -t, -u, --sctp-service or -f")
	}
	if r.cmd == 'A' {
		return p.addService(r)
	}
	return p.addDest(r)
}

func (p *parser) addService(r rule) error {
	if r.dest != "" {
		return errors.New("-r is not valid with -A")
	}
	if _, dup := p.index[r.key]; dup {
		return fmt.Errorf("service %s already exists", r.key)
	}
	s := lvs.Service{Key: r.key, Scheduler: r.sched}
	if s.Scheduler == "" {
		s.Scheduler = "wlc"
	}
	if r.persist != nil {
		s.Timeout = *r.persist
	}
	if r.key.FWMark == 0 && r.key.Port == 0 && s.Timeout == 0 {
		return errors.New("zero port specified for non-persistent service")
	}
	if r.netmask != "" {
		bits, err := parseNetmask(r.key.Family, r.netmask)
		if err != nil {
			return err
		}
		s.NetmaskBits = bits
	}
	s.PE = r.pe
	s.OnePacket = r.ops
	if r.flags != "" {
		f, err := ParseSchedFlags(s.Scheduler, r.flags)
		if err != nil {
			return err
		}
		s.Flags = f
	}
	p.index[r.key] = len(p.svcs)
	p.svcs = append(p.svcs, s)
	return nil
}

func (p *parser) addDest(r rule) error {
	i, ok := p.index[r.key]
	if !ok && p.failed[r.key] {
		return nil // the service's own line is the error
	}
	if !ok {
		return fmt.Errorf("service %s not defined", r.key)
	}
	if r.dest == "" {
		return errors.New("no real server given: want -r")
	}
	a, port, hasPort, err := parseAddrPort(r.dest)
	if err != nil {
		return fmt.Errorf("illegal real server address[:port] %q", r.dest)
	}
	if !hasPort {
		port = r.key.Port // no port given: ipvsadm copies the service's
	}
	if r.key.FWMark == 0 && r.forward != lvs.Masq {
		port = r.key.Port // DR and tunnel cannot map ports
	}
	if lvs.FamilyOf(a) != r.key.Family {
		return fmt.Errorf("real server %s is not of the service's family", r.dest)
	}
	if r.tunType != "" && r.forward != lvs.Tunnel {
		return errors.New("--tun-type is only for tunnel (-i) real servers")
	}
	s := &p.svcs[i]
	d := lvs.Destination{Addr: a, Port: port, Weight: r.weight, Forward: r.forward,
		UpperThreshold: r.upper, LowerThreshold: r.lower, TunType: tunTypes[r.tunType], TunFlags: r.tunFlags}
	if r.tunPort != "" {
		n, err := strconv.ParseUint(r.tunPort, 10, 16)
		if err != nil || n == 0 || d.TunType != lvs.TunGUE {
			return fmt.Errorf("--tun-port %q: a port 1-65535, only with --tun-type gue", r.tunPort)
		}
		d.TunPort = uint16(n)
	}
	for _, e := range s.Destinations {
		if e.Key() == d.Key() {
			return fmt.Errorf("real server %s of %s already exists", d.Key(), r.key)
		}
	}
	s.Destinations = append(s.Destinations, d)
	return nil
}

// parseAddrPort reads "a.b.c.d", "a.b.c.d:p", "v6", "[v6]" or "[v6]:p"
// (numeric only) and says whether a port was given.
func parseAddrPort(s string) (netip.Addr, uint16, bool, error) {
	bad := errors.New("bad address")
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Addr().Zone() != "" || ap.Addr().Is4In6() {
			return netip.Addr{}, 0, false, bad
		}
		return ap.Addr(), ap.Port(), true, nil
	}
	host := s
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" || a.Is4In6() || (a.Is4() && host != s) {
		return netip.Addr{}, 0, false, bad
	}
	return a, 0, false, nil
}

// parseNetmask reads a persistence netmask: dotted quad for IPv4, a prefix
// length 1-128 for IPv6. Non-contiguous IPv4 masks are refused (the model
// keeps a prefix length).
func parseNetmask(f lvs.Family, s string) (int, error) {
	if f == lvs.IPv6 {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 128 {
			return 0, fmt.Errorf("illegal ipv6 netmask %q specified", s)
		}
		return n, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("illegal virtual server persistent mask %q specified", s)
	}
	bits, ok := MaskBits(a.As4())
	if !ok {
		return 0, fmt.Errorf("persistent mask %q is not contiguous", s)
	}
	return bits, nil
}

// MaskBits returns the prefix length of a contiguous IPv4 netmask.
func MaskBits(m [4]byte) (int, bool) {
	v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	bits := 0
	for v&0x80000000 != 0 {
		bits++
		v <<= 1
	}
	return bits, v == 0
}

// ParseSchedFlags reads a comma-separated -b argument for scheduler sched,
// refusing sh-* flags for a scheduler other than sh and mh-* other than mh.
func ParseSchedFlags(sched, s string) (lvs.SchedFlags, error) {
	var f lvs.SchedFlags
	for _, name := range strings.Split(s, ",") {
		switch name {
		case "flag-1":
			f |= lvs.FlagFallback
		case "flag-2":
			f |= lvs.FlagPort
		case "flag-3":
			f |= lvs.FlagSched3
		case "sh-fallback", "mh-fallback", "sh-port", "mh-port":
			if !strings.HasPrefix(name, sched+"-") {
				return 0, fmt.Errorf("incompatible scheduler flag %q for scheduler %q", name, sched)
			}
			if strings.HasSuffix(name, "-port") {
				f |= lvs.FlagPort
			} else {
				f |= lvs.FlagFallback
			}
		default:
			return 0, fmt.Errorf("invalid scheduler flag %q", name)
		}
	}
	return f, nil
}

// tunTypes maps ipvsadm's --tun-type names to the model.
var tunTypes = map[string]lvs.TunType{"": lvs.TunIPIP, "ipip": lvs.TunIPIP, "gue": lvs.TunGUE, "gre": lvs.TunGRE}
