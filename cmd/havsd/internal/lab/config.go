package lab

import (
	"fmt"
	"strings"
	"time"

	"github.com/havsd/havsd/netlab"
)

// Kind is the director software.
type Kind int

// Director kinds.
const (
	KindInvalid Kind = iota
	KindHavsd
	KindKeepalived
)

func (k Kind) String() string {
	switch k {
	case KindHavsd:
		return "havsd"
	case KindKeepalived:
		return "keepalived"
	}
	return "invalid"
}

// ParseKind parses "havsd" or "keepalived".
func ParseKind(s string) (Kind, error) {
	switch s {
	case "havsd":
		return KindHavsd, nil
	case "keepalived":
		return KindKeepalived, nil
	}
	return KindInvalid, fmt.Errorf("unknown director %q (want havsd or keepalived)", s)
}

// Params are the settings both directors share.
type Params struct {
	Kind     Kind
	Mode     netlab.Mode
	Reals    int           // real servers
	Version  int           // VRRP version, 2 or 3
	Advert   time.Duration // advert interval; whole seconds for v2
	Services bool          // configure the virtual service and its checks
	// Sync adds ipvs_sync to the havsd configs, so the directors share
	// their IPVS connections and established ones survive a failover;
	// only where the kernel has IPVS.
	Sync bool
}

// Priorities of d1 and d2: d1 is the preferred master.
var priorities = [2]int{150, 100}

const (
	vridExt  = 51
	vridInt  = 52
	authPass = "hvlab"
)

// Validate checks the VRRP settings.
func (p Params) Validate() error {
	switch {
	case p.Version != 2 && p.Version != 3:
		return fmt.Errorf("VRRP version must be 2 or 3, not %d", p.Version)
	case p.Advert <= 0:
		return fmt.Errorf("advert interval must be positive")
	case p.Version == 2 && p.Advert%time.Second != 0:
		return fmt.Errorf("VRRPv2 advert interval must be whole seconds, not %s", p.Advert)
	case p.Version == 3 && (p.Advert%(10*time.Millisecond) != 0 || p.Advert > 40950*time.Millisecond):
		return fmt.Errorf("VRRPv3 advert interval must be a multiple of 10ms up to 40.95s, not %s", p.Advert)
	}
	return nil
}

// MasterDown is the RFC's Master_Down_Interval of the backup (priority 100).
func (p Params) MasterDown() time.Duration {
	prio := priorities[1]
	if p.Version == 2 {
		return 3*p.Advert + time.Duration(256-prio)*time.Second/256
	}
	return 3*p.Advert + time.Duration(256-prio)*p.Advert/256
}

// gateway reports whether the real servers' gateway VIP floats too.
func (p Params) gateway() bool { return p.Mode == netlab.ModeNAT && p.Reals > 0 }

// SyncInterface is the link the IPVS sync messages use: the internal
// network in NAT mode, where the directors have one, else the external.
func (p Params) SyncInterface() string {
	if p.gateway() {
		return "eth1"
	}
	return "eth0"
}

// HavsdConfig renders the HCL of director i (0 or 1), in the shape of
// doc/config-sketch.hcl.
func (p Params) HavsdConfig(i int, socket string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# havsd lab: director d%d (%s mode)\n", i+1, p.Mode)
	fmt.Fprintf(&b, "global {\n  router_id      = %q\n  control_socket = %q\n  log_level      = \"info\"\n", fmt.Sprintf("lab-d%d", i+1), socket)
	if p.Sync {
		// The sync id defaults to the instance's VRID.
		fmt.Fprintf(&b, "\n  ipvs_sync {\n    interface = %q\n    instance  = \"VI_EXT\"\n  }\n", p.SyncInterface())
	}
	b.WriteString("}\n\n")
	inst := func(name, dev string, vrid int, vip string) {
		fmt.Fprintf(&b, "vrrp_instance %q {\n", name)
		fmt.Fprintf(&b, "  interface         = %q\n  virtual_router_id = %d\n  priority          = %d\n", dev, vrid, priorities[i])
		fmt.Fprintf(&b, "  version           = %d\n  advert_interval   = %q\n  preempt           = true\n", p.Version, p.Advert.String())
		if p.Version == 2 {
			fmt.Fprintf(&b, "  auth_pass         = %q\n", authPass)
		}
		fmt.Fprintf(&b, "  virtual_ipaddress = [%q]\n}\n\n", vip)
	}
	inst("VI_EXT", "eth0", vridExt, netlab.VIP.String()+"/24")
	if p.gateway() {
		inst("VI_INT", "eth1", vridInt, netlab.GwVIP.String()+"/24")
		b.WriteString("vrrp_sync_group \"LAB\" {\n  instances = [\"VI_EXT\", \"VI_INT\"]\n}\n\n")
	}
	if p.Services && p.Reals > 0 {
		fmt.Fprintf(&b, "virtual_service \"web\" {\n  protocol  = \"tcp\"\n  address   = \"%s:80\"\n", netlab.VIP)
		fmt.Fprintf(&b, "  scheduler = \"wrr\"\n  instance  = \"VI_EXT\"\n  forward   = %q\n  inhibit_on_failure = true\n\n", p.Mode.String())
		b.WriteString("  check \"http\" {\n    interval = \"1s\"\n    timeout  = \"500ms\"\n    retry    = 2\n    path     = \"/\"\n    status   = [\"200-299\"]\n  }\n")
		for r := 0; r < p.Reals; r++ {
			fmt.Fprintf(&b, "\n  real_server \"%s:80\" {\n    weight = 1\n  }\n", netlab.RealIP(p.Mode, r))
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// KeepalivedConfig renders keepalived.conf for director i with the same
// VRRP settings, for `keepalived --vrrp`.
func (p Params) KeepalivedConfig(i int) string {
	kc := netlab.KeepalivedConf{Comment: fmt.Sprintf("havsd lab: keepalived baseline, director d%d", i+1),
		RouterID: fmt.Sprintf("lab-d%d", i+1), Version: p.Version}
	inst := func(name, dev string, vrid int, vip string) {
		in := netlab.KeepalivedInstance{Name: name, Interface: dev, VRID: vrid, Priority: priorities[i], Advert: p.Advert, VIPs: []string{vip}}
		if p.Version == 2 {
			in.AuthPass = authPass
		}
		kc.Instances = append(kc.Instances, in)
	}
	inst("VI_EXT", "eth0", vridExt, netlab.VIP.String()+"/24")
	if p.gateway() {
		kc.SyncGroup = "LAB"
		inst("VI_INT", "eth1", vridInt, netlab.GwVIP.String()+"/24")
	}
	return kc.String()
}
