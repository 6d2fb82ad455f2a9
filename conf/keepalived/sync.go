package keepalived

import (
	"net/netip"
	"strconv"

	"github.com/havsd/havsd/conf"
)

// syncDaemon is lvs_sync_daemon (or the old lvs_sync_daemon_interface).
type syncDaemon struct {
	node *Node
	cfg  conf.IPVSSync
	id   opt[int]
}

// syncDaemon reads "lvs_sync_daemon IF [[inst] INSTANCE] [id N] [maxlen N]
// [port N] [ttl N] [group ADDR]" in global_defs, or the old
// "lvs_sync_daemon_interface IF" in global_defs or a vrrp_instance.
func (c *converter) syncDaemon(n *Node) {
	iface, ok := c.arg(n, 1)
	if !ok {
		return
	}
	if c.global.sync != nil {
		c.invalid(n, "a second sync daemon (the first is at %s)", c.global.sync.node.Pos)
		return
	}
	s := &syncDaemon{node: n, cfg: conf.IPVSSync{Interface: iface}}
	if c.inst != nil {
		s.cfg.Instance = c.inst.cfg.Name
	}
	args := n.Words[2:]
	for i := 0; i < len(args); i++ {
		key := args[i]
		if key != "inst" && key != "id" && key != "maxlen" && key != "port" && key != "ttl" && key != "group" {
			if i == 0 {
				s.cfg.Instance = key // the instance may be named without "inst"
				continue
			}
			c.invalid(n, "%q is not inst, id, maxlen, port, ttl or group", key)
			return
		}
		if i+1 >= len(args) {
			c.invalid(n, "%s without a value", key)
			return
		}
		val := args[i+1]
		i++
		var err error
		var v uint64
		switch key {
		case "inst":
			s.cfg.Instance = val
		case "id":
			v, err = strconv.ParseUint(val, 10, 8)
			s.id.put(int(v))
		case "maxlen":
			v, err = strconv.ParseUint(val, 10, 16)
			s.cfg.MaxLen = uint16(v)
		case "port":
			v, err = strconv.ParseUint(val, 10, 16)
			s.cfg.Port = uint16(v)
		case "ttl":
			v, err = strconv.ParseUint(val, 10, 8)
			s.cfg.TTL = uint8(v)
		case "group":
			var a netip.Addr
			a, err = netip.ParseAddr(val)
			s.cfg.Group = a
		}
		if err != nil {
			c.invalid(n, "%s %q is not valid", key, val)
			return
		}
	}
	c.global.sync = s
}

func (c *converter) notifyFIFO(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.global.fifo = s
		if len(n.Words) > 2 {
			c.leftWord(n, n.Words[2], "creates the FIFO with this owner or group", "havsd creates it as its own user")
		}
	}
}

// finishSync sets cfg.Sync; the sync id defaults to the instance's VRID,
// as keepalived's does.
func (c *converter) finishSync(cfg *conf.Config) {
	s := c.global.sync
	if s == nil {
		return
	}
	if s.cfg.Instance == "" {
		c.left(s.node, "runs the IPVS connection sync daemon without naming a VRRP instance", "ipvs_sync in global needs instance; add \"inst NAME\"")
		return
	}
	for _, in := range cfg.Instances {
		if in.Name == s.cfg.Instance {
			sc := s.cfg
			sc.SyncID = uint8(s.id.or(int(in.VRID)))
			cfg.Global.Sync = &sc
			return
		}
	}
	c.left(s.node, "runs the IPVS connection sync daemon for vrrp_instance "+s.cfg.Instance+", which was not converted", "")
}
