package netlab

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// KeepalivedConf is a keepalived.conf for VRRP only (keepalived --vrrp): the
// lab's baseline director and the tests' reference peer.
type KeepalivedConf struct {
	Comment   string // first line, after "# "; empty for none
	RouterID  string
	Version   int    // vrrp_version, 2 or 3
	SyncGroup string // if set, a vrrp_sync_group of every instance
	Instances []KeepalivedInstance
}

// KeepalivedInstance is one vrrp_instance, always in state BACKUP (the
// priorities elect the master).
type KeepalivedInstance struct {
	Name         string
	Interface    string
	VRID         int
	Priority     int
	Advert       time.Duration
	AuthPass     string   // VRRPv2 simple password; empty for none
	VIPs         []string // prefixes, put on Interface
	UnicastSrc   string   // with UnicastPeers: unicast instead of multicast
	UnicastPeers []string
}

// String renders the file.
func (c KeepalivedConf) String() string {
	var b strings.Builder
	if c.Comment != "" {
		fmt.Fprintf(&b, "# %s\n", c.Comment)
	}
	fmt.Fprintf(&b, "global_defs {\n  router_id %s\n  vrrp_version %d\n  script_user root\n  enable_script_security\n}\n\n", c.RouterID, c.Version)
	if c.SyncGroup != "" {
		fmt.Fprintf(&b, "vrrp_sync_group %s {\n  group {\n", c.SyncGroup)
		for _, in := range c.Instances {
			fmt.Fprintf(&b, "    %s\n", in.Name)
		}
		b.WriteString("  }\n}\n\n")
	}
	for _, in := range c.Instances {
		fmt.Fprintf(&b, "vrrp_instance %s {\n  state BACKUP\n  interface %s\n  virtual_router_id %d\n  priority %d\n", in.Name, in.Interface, in.VRID, in.Priority)
		fmt.Fprintf(&b, "  advert_int %s\n", strconv.FormatFloat(in.Advert.Seconds(), 'f', -1, 64))
		if in.AuthPass != "" {
			fmt.Fprintf(&b, "  authentication {\n    auth_type PASS\n    auth_pass %s\n  }\n", in.AuthPass)
		}
		if in.UnicastSrc != "" {
			fmt.Fprintf(&b, "  unicast_src_ip %s\n  unicast_peer {\n", in.UnicastSrc)
			for _, p := range in.UnicastPeers {
				fmt.Fprintf(&b, "    %s\n", p)
			}
			b.WriteString("  }\n")
		}
		b.WriteString("  virtual_ipaddress {\n")
		for _, v := range in.VIPs {
			fmt.Fprintf(&b, "    %s dev %s\n", v, in.Interface)
		}
		b.WriteString("  }\n}\n\n")
	}
	return b.String()
}
