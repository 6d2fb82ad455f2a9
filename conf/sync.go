package conf

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/havsd/havsd/lvs"
)

// The ipvs_sync block of global: the kernel's IPVS connection-sync
// daemons, keepalived's lvs_sync_daemon in havsd's words.
//
//	ipvs_sync {
//	  interface = "eth1"   # the link sync messages use
//	  instance  = "VI_1"   # the VRRP instance the daemons belong to
//	  sync_id   = 51       # default: that instance's virtual_router_id
//	  # port = 8848, ttl = 1, group = "224.0.0.81", max_len = 1472
//	  # sync_version = 1, sync_threshold = 3, sync_period = 50, ...
//	}

// IPVSSync is the compiled ipvs_sync block.
type IPVSSync struct {
	Interface string // the link the sync messages use
	Instance  string // the VRRP instance whose VRID is the default sync id
	SyncID    uint8
	// Port, TTL, Group and MaxLen are zero (invalid for Group) for the
	// kernel's defaults: 8848, 1, 224.0.0.81 and a length from the
	// interface's MTU, the values keepalived and ipvsadm use too.
	Port   uint16
	TTL    uint8
	Group  netip.Addr
	MaxLen uint16
	// Sysctls are the net.ipv4.vs sync settings the block sets, by full
	// dotted name; settings it leaves out keep the kernel's values.
	Sysctls []Sysctl
}

// Sysctl is one kernel setting the configuration asks for.
type Sysctl struct{ Key, Value string }

// Daemons returns the sync daemons the block asks for: a master and a
// backup daemon with the same settings, on every director whatever its VRRP
// state (see lvs/doc.go for why).
func (s *IPVSSync) Daemons() []lvs.SyncDaemon {
	if s == nil {
		return nil
	}
	d := lvs.SyncDaemon{Interface: s.Interface, SyncID: s.SyncID, Port: s.Port, TTL: s.TTL, Group: s.Group, MaxLen: s.MaxLen}
	m, b := d, d
	m.Role, b.Role = lvs.SyncMaster, lvs.SyncBackup
	return []lvs.SyncDaemon{m, b}
}

var syncSchema = &hcl.BodySchema{Attributes: append([]hcl.AttributeSchema{
	{Name: "interface", Required: true}, {Name: "instance", Required: true}},
	attrs(append([]string{"sync_id", "port", "ttl", "group", "max_len"}, syncSysctlNames...)...)...)}

// syncSysctls are the kernel's sync settings (net.ipv4.vs.*) an ipvs_sync
// block may set, with the range each takes. sync_threshold and sync_period
// share one sysctl.
var syncSysctls = []struct {
	name     string
	min, max int64
	dur      bool // written as a duration in whole seconds
}{
	{name: "sync_version", min: 0, max: 1},
	{name: "sync_threshold", min: 0, max: 1 << 30},
	{name: "sync_period", min: 0, max: 1 << 30},
	{name: "sync_refresh_period", min: 0, max: 1 << 30, dur: true},
	{name: "sync_retries", min: 0, max: 3},
	{name: "sync_qlen_max", min: 1, max: 1 << 30},
	{name: "sync_sock_size", min: 0, max: 1 << 30},
	{name: "sync_ports", min: 1, max: 1024},
	{name: "sync_persist_mode", min: 0, max: 1},
}

var syncSysctlNames = func() []string {
	var out []string
	for _, s := range syncSysctls {
		out = append(out, s.name)
	}
	return out
}()

// Kernel defaults of the two halves of net.ipv4.vs.sync_threshold.
const defaultSyncThreshold, defaultSyncPeriod = 3, 50

type rawSync struct {
	b                         *block
	iface, instance           string
	syncID, port, ttl, maxLen int64
	group                     netip.Addr
	sysctl                    map[string]int64
}

func (d *decoder) ipvsSync(hb *hcl.Block) *rawSync {
	b := d.open(hb, hb.Body, syncSchema)
	s := &rawSync{b: b, syncID: -1, sysctl: map[string]int64{}}
	d.str(b, "interface", &s.iface)
	d.str(b, "instance", &s.instance)
	d.integer(b, "sync_id", &s.syncID)
	d.integer(b, "port", &s.port)
	d.integer(b, "ttl", &s.ttl)
	d.integer(b, "max_len", &s.maxLen)
	d.addr(b, "group", &s.group)
	for _, sc := range syncSysctls {
		if !b.has(sc.name) {
			continue
		}
		var n int64
		if sc.dur {
			var dur time.Duration
			d.dur(b, sc.name, &dur)
			n = int64(dur / time.Second)
			if dur%time.Second != 0 {
				d.errorf(b.at(sc.name), "Invalid "+sc.name, "%s is whole seconds; %s is not.", sc.name, dur)
			}
		} else {
			d.integer(b, sc.name, &n)
		}
		s.sysctl[sc.name] = n
	}
	return s
}

// ipvsSync checks the ipvs_sync blocks against the instances: one block
// (the kernel runs one master and one backup daemon per network
// namespace), a known instance, a sync id of 0-255, ports, TTL, a multicast
// group, sysctl ranges; an interface this host lacks is a warning, since
// havsd check may run elsewhere.
func (v *validator) ipvsSync(syncs []*rawSync, ins []*rawInstance) {
	for i, s := range syncs {
		if i > 0 {
			first := syncs[0]
			if s.instance == first.instance {
				v.errorf(s.b.defAt(), "Duplicate ipvs_sync block", "Instance %q already has an ipvs_sync block at %s.", s.instance, pos(first.b.defAt()))
			} else {
				v.errorf(s.b.defAt(), "Duplicate ipvs_sync block", "Only one ipvs_sync block is allowed (the first is at %s): "+
					"the kernel runs one master and one backup sync daemon per network namespace.", pos(first.b.defAt()))
			}
			continue
		}
		v.syncBlock(s, ins)
	}
}

func (v *validator) syncBlock(s *rawSync, ins []*rawInstance) {
	b := s.b
	if b.has("instance") && !slices.ContainsFunc(ins, func(in *rawInstance) bool { return in.name == s.instance }) {
		var names []string
		for _, in := range ins {
			names = append(names, in.name)
		}
		v.errorf(b.at("instance"), "Unknown VRRP instance", "ipvs_sync names instance %q, which this configuration does not define.%s", s.instance, didYouMean(s.instance, names))
	}
	if b.has("interface") {
		switch {
		case s.iface == "" || len(s.iface) > 15:
			v.errorf(b.at("interface"), "Invalid interface", "%q is not an interface name (1 to 15 characters).", s.iface)
		default:
			if _, err := net.InterfaceByName(s.iface); err != nil {
				v.warnf(b.at("interface"), "No such interface here", "This host has no interface %q: the sync daemons start once it exists.", s.iface)
			}
		}
	}
	ranges := []struct {
		name     string
		val      int64
		min, max int64
	}{{"sync_id", s.syncID, 0, 255}, {"port", s.port, 1, 65535}, {"ttl", s.ttl, 1, 255}, {"max_len", s.maxLen, 1, 65507}}
	for _, r := range ranges {
		if b.has(r.name) && (r.val < r.min || r.val > r.max) {
			v.errorf(b.at(r.name), "Invalid "+r.name, "%s must be %d to %d, not %d.", r.name, r.min, r.max, r.val)
		}
	}
	if b.has("group") && s.group.IsValid() && !s.group.IsMulticast() {
		v.errorf(b.at("group"), "Invalid group", "%s is not a multicast address.", s.group)
	}
	for _, sc := range syncSysctls {
		if n, ok := s.sysctl[sc.name]; ok && (n < sc.min || n > sc.max) {
			v.errorf(b.at(sc.name), "Invalid "+sc.name, "%s must be %d to %d, not %d.", sc.name, sc.min, sc.max, n)
		}
	}
	th, tok := s.sysctl["sync_threshold"]
	pe, pok := s.sysctl["sync_period"]
	if !tok {
		th = defaultSyncThreshold
	}
	if !pok {
		pe = defaultSyncPeriod
	}
	if (tok || pok) && pe != 0 && th >= pe {
		at := b.at("sync_threshold")
		if !tok {
			at = b.at("sync_period")
		}
		v.errorf(at, "Invalid sync_threshold", "sync_threshold (%d) must be below sync_period (%d), or sync_period 0.", th, pe)
	}
}

// compileSync turns the first ipvs_sync block into its compiled form; the
// sync id defaults to the instance's VRID, as keepalived's does.
func compileSync(syncs []*rawSync, ins []*rawInstance) *IPVSSync {
	if len(syncs) == 0 {
		return nil
	}
	s := syncs[0]
	out := &IPVSSync{Interface: s.iface, Instance: s.instance, Port: uint16(s.port), TTL: uint8(s.ttl),
		Group: s.group, MaxLen: uint16(s.maxLen)}
	if s.syncID >= 0 {
		out.SyncID = uint8(s.syncID)
	} else if i := slices.IndexFunc(ins, func(in *rawInstance) bool { return in.name == s.instance }); i >= 0 {
		out.SyncID = uint8(ins[i].vrid)
	}
	th, tok := s.sysctl["sync_threshold"]
	pe, pok := s.sysctl["sync_period"]
	for _, sc := range syncSysctls {
		n, ok := s.sysctl[sc.name]
		switch {
		case sc.name == "sync_period":
		case sc.name == "sync_threshold":
			if !tok && !pok {
				continue
			}
			if !tok {
				th = defaultSyncThreshold
			}
			if !pok {
				pe = defaultSyncPeriod
			}
			out.Sysctls = append(out.Sysctls, Sysctl{"net.ipv4.vs.sync_threshold", fmt.Sprintf("%d %d", th, pe)})
		case ok:
			out.Sysctls = append(out.Sysctls, Sysctl{"net.ipv4.vs." + sc.name, strconv.FormatInt(n, 10)})
		}
	}
	return out
}

// formatSync writes the ipvs_sync block of s (nil: nothing). The sync id is
// always written: it defaults to a VRID the writer need not know.
func formatSync(b *hclwrite.Body, s *IPVSSync) {
	if s == nil {
		return
	}
	sb := b.AppendNewBlock("ipvs_sync", nil).Body()
	sb.SetAttributeValue("interface", str(s.Interface))
	sb.SetAttributeValue("instance", str(s.Instance))
	sb.SetAttributeValue("sync_id", num(int64(s.SyncID)))
	setInt(sb, "port", int64(s.Port), 0)
	setInt(sb, "ttl", int64(s.TTL), 0)
	setAddr(sb, "group", s.Group)
	setInt(sb, "max_len", int64(s.MaxLen), 0)
	for _, kv := range s.Sysctls {
		name := strings.TrimPrefix(kv.Key, "net.ipv4.vs.")
		if name == "sync_threshold" {
			var th, pe int64
			fmt.Sscanf(kv.Value, "%d %d", &th, &pe)
			sb.SetAttributeValue("sync_threshold", num(th))
			sb.SetAttributeValue("sync_period", num(pe))
			continue
		}
		n, _ := strconv.ParseInt(kv.Value, 10, 64)
		if name == "sync_refresh_period" {
			setDur(sb, name, time.Duration(n)*time.Second, -1)
			continue
		}
		sb.SetAttributeValue(name, num(n))
	}
}
