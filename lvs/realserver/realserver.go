// Package realserver prepares a host as a real server of a DR or TUN
// cluster, as section 4.2.2 of the LVS tutorial does by hand: the virtual
// address on lo (DR) or on an IP-in-IP device (TUN), ARP replies and
// announcements for it suppressed (arp_ignore=1, arp_announce=2), and for TUN
// reverse-path filtering off. It works on the network namespace of the
// calling thread and is idempotent; Undo reverses it.
package realserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Mode is the forwarding method the director uses towards this host. Its
// zero value is invalid.
type Mode uint8

// Modes.
const (
	ModeInvalid Mode = iota
	ModeDR           // direct routing: VIP on lo
	ModeTUN          // IP-in-IP: VIP on a tunnel device
)

// String returns "dr" or "tun".
func (m Mode) String() string {
	switch m {
	case ModeDR:
		return "dr"
	case ModeTUN:
		return "tun"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode parses "dr" or "tun".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "dr", "route", "gatewaying":
		return ModeDR, nil
	case "tun", "tunnel", "ipip":
		return ModeTUN, nil
	}
	return ModeInvalid, fmt.Errorf("unknown mode %q: want dr or tun", s)
}

// Config says what to set up.
type Config struct {
	VIP  netip.Prefix // the virtual address; a bare address means /32 or /128
	Mode Mode
	// Dev is the device for the VIP: "lo" for DR and "tunl0" for TUN when
	// empty. A TUN device that does not exist is created as ipip.
	Dev string
	// SysctlRoot is where sysctls live; "" means /proc/sys.
	SysctlRoot string
	// StateDir keeps the sysctl values Setup found, for Undo to restore;
	// "" means DefaultStateDir.
	StateDir string
	// Force accepts a VIP with a prefix shorter than a host's (/32, /128).
	Force bool
}

// DefaultStateDir is where Setup records the sysctl values it found. It is
// on tmpfs: the record goes when a reboot resets the sysctls anyway.
const DefaultStateDir = "/run/havsd"

func (c Config) norm() (Config, error) {
	if !c.VIP.IsValid() {
		return c, errors.New("a virtual address is required")
	}
	c.VIP = netip.PrefixFrom(c.VIP.Addr().Unmap(), c.VIP.Bits())
	if c.Dev == "" {
		c.Dev = map[Mode]string{ModeDR: "lo", ModeTUN: "tunl0"}[c.Mode]
	}
	if c.Mode != ModeDR && c.Mode != ModeTUN {
		return c, fmt.Errorf("mode must be dr or tun, not %s", c.Mode)
	}
	if c.SysctlRoot == "" {
		c.SysctlRoot = "/proc/sys"
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	return c, nil
}

// CheckHost returns an error unless the VIP is a host address (/32,
// /128): a shorter prefix on lo makes the real server claim the whole
// subnet, its own neighbours included, the classic DR mistake.
func (c Config) CheckHost() error {
	host := c.VIP.Addr().BitLen()
	if !c.VIP.IsValid() || c.VIP.Bits() == host {
		return nil
	}
	dev := c.Dev
	if dev == "" {
		dev = map[Mode]string{ModeDR: "lo", ModeTUN: "tunl0"}[c.Mode]
	}
	return fmt.Errorf("%s is not a host address: on %s it would route all of %s, this host's own subnet included, "+
		"to itself; a real server needs only %s", c.VIP, dev, c.VIP.Masked(), netip.PrefixFrom(c.VIP.Addr(), host))
}

// ParseVIP parses ADDR or ADDR/PLEN; a bare address gets a host prefix.
func ParseVIP(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Setup applies cfg and returns one line per change made; none when the host
// was already set up.
func Setup(cfg Config) ([]string, error) {
	cfg, err := cfg.norm()
	if err != nil {
		return nil, err
	}
	if err := cfg.CheckHost(); err != nil && !cfg.Force {
		return nil, err
	}
	var done []string
	link, created, err := ensureLink(cfg)
	if err != nil {
		return nil, err
	}
	if created {
		done = append(done, fmt.Sprintf("created ipip device %s", cfg.Dev))
	}
	if link.Attrs().Flags&unixUp == 0 {
		if err := netlink.LinkSetUp(link); err != nil {
			return done, fmt.Errorf("setting %s up: %w", cfg.Dev, err)
		}
		done = append(done, fmt.Sprintf("set %s up", cfg.Dev))
	}
	found, err := loadFound(cfg.StateDir)
	if err != nil {
		return done, err
	}
	for _, s := range sysctls(cfg) {
		was, err := getSysctl(cfg.SysctlRoot, s)
		if err != nil {
			return done, err
		}
		if was == s.val {
			continue
		}
		if _, ok := found[s.key()]; !ok {
			// Recorded before the change, so that Undo can restore it
			// even if this run fails half-way.
			found[s.key()] = was
			if err := saveFound(cfg.StateDir, found); err != nil {
				return done, err
			}
		}
		if err := setSysctl(cfg.SysctlRoot, s, s.val); err != nil {
			return done, err
		}
		done = append(done, fmt.Sprintf("set %s=%s (was %s)", s.key(), s.val, was))
	}
	has, err := hasAddr(link, cfg.VIP)
	if err != nil {
		return done, err
	}
	if !has {
		if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: ipNet(cfg.VIP)}); err != nil {
			return done, fmt.Errorf("adding %s to %s: %w", cfg.VIP, cfg.Dev, err)
		}
		done = append(done, fmt.Sprintf("added %s to %s", cfg.VIP, cfg.Dev))
	}
	return done, nil
}

// Undo removes the VIP; when no other virtual address is left on the device
// it sets the sysctls Setup changed back to the values Setup found (those
// it has no record of, or that changed since, are left as they are and
// said so), and deletes a tunnel device Setup may have created (never lo or
// the kernel's tunl0). It returns one line per change.
func Undo(cfg Config) ([]string, error) {
	cfg, err := cfg.norm()
	if err != nil {
		return nil, err
	}
	var done []string
	link, err := netlink.LinkByName(cfg.Dev)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, nil
		}
		return nil, fmt.Errorf("finding %s: %w", cfg.Dev, err)
	}
	has, err := hasAddr(link, cfg.VIP)
	if err != nil {
		return nil, err
	}
	if has {
		if err := netlink.AddrDel(link, &netlink.Addr{IPNet: ipNet(cfg.VIP)}); err != nil {
			return nil, fmt.Errorf("removing %s from %s: %w", cfg.VIP, cfg.Dev, err)
		}
		done = append(done, fmt.Sprintf("removed %s from %s", cfg.VIP, cfg.Dev))
	}
	others, err := otherVIPs(link)
	if err != nil || others > 0 {
		return done, err
	}
	restored, err := restoreSysctls(cfg)
	done = append(done, restored...)
	if err != nil {
		return done, err
	}
	if cfg.Mode == ModeTUN && cfg.Dev != "tunl0" && link.Type() == "ipip" {
		if err := netlink.LinkDel(link); err != nil {
			return done, fmt.Errorf("deleting %s: %w", cfg.Dev, err)
		}
		done = append(done, fmt.Sprintf("deleted ipip device %s", cfg.Dev))
	}
	return done, nil
}

const unixUp = 1 // net.FlagUp

// sysctl is one IPv4 per-interface setting: conf/DEV/NAME.
type sysctl struct{ dev, name, val string }

func (s sysctl) key() string { return "net.ipv4.conf." + s.dev + "." + s.name }

// sysctls lists what the mode needs, in the order it is applied.
func sysctls(cfg Config) []sysctl {
	out := []sysctl{
		{"all", "arp_ignore", "1"},
		{"all", "arp_announce", "2"},
		{cfg.Dev, "arp_ignore", "1"},
		{cfg.Dev, "arp_announce", "2"},
	}
	if cfg.Mode == ModeTUN {
		out = append(out, sysctl{cfg.Dev, "rp_filter", "0"}, sysctl{"all", "rp_filter", "0"})
	}
	return out
}

func (s sysctl) path(root string) string {
	return filepath.Join(root, "net", "ipv4", "conf", s.dev, s.name)
}

func getSysctl(root string, s sysctl) (string, error) {
	b, err := os.ReadFile(s.path(root))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", s.key(), err)
	}
	return strings.TrimSpace(string(b)), nil
}

func setSysctl(root string, s sysctl, val string) error {
	if err := os.WriteFile(s.path(root), []byte(val+"\n"), 0o644); err != nil {
		return fmt.Errorf("setting %s=%s: %w", s.key(), val, err)
	}
	return nil
}

// ensureLink finds the device, creating an ipip device for TUN.
func ensureLink(cfg Config) (netlink.Link, bool, error) {
	link, err := netlink.LinkByName(cfg.Dev)
	if err == nil {
		return link, false, nil
	}
	var nf netlink.LinkNotFoundError
	if !errors.As(err, &nf) || cfg.Mode != ModeTUN {
		return nil, false, fmt.Errorf("finding %s: %w", cfg.Dev, err)
	}
	addErr := netlink.LinkAdd(&netlink.Iptun{LinkAttrs: netlink.LinkAttrs{Name: cfg.Dev}})
	// Loading the ipip module creates tunl0 by itself, so adding it may
	// fail with EEXIST: look again either way.
	link, err = netlink.LinkByName(cfg.Dev)
	if err != nil {
		if errors.Is(addErr, unix.EEXIST) {
			return nil, false, fmt.Errorf("creating ipip device %s: an ipip device without endpoints already exists "+
				"(tunl0, made by the ipip module): use it (the default) or create %s with its endpoints first", cfg.Dev, cfg.Dev)
		}
		if addErr != nil {
			return nil, false, fmt.Errorf("creating ipip device %s: %w", cfg.Dev, addErr)
		}
		return nil, false, fmt.Errorf("finding %s after creating it: %w", cfg.Dev, err)
	}
	return link, addErr == nil || !errors.Is(addErr, unix.EEXIST), nil
}

func hasAddr(link netlink.Link, p netip.Prefix) (bool, error) {
	addrs, err := netlink.AddrList(link, family(p))
	if err != nil {
		return false, fmt.Errorf("listing addresses of %s: %w", link.Attrs().Name, err)
	}
	for _, a := range addrs {
		if ap, ok := prefixOf(a); ok && ap == p {
			return true, nil
		}
	}
	return false, nil
}

// otherVIPs counts the addresses left on the device that are not loopback
// ones.
func otherVIPs(link netlink.Link) (int, error) {
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return 0, fmt.Errorf("listing addresses of %s: %w", link.Attrs().Name, err)
	}
	n := 0
	for _, a := range addrs {
		if p, ok := prefixOf(a); ok && !p.Addr().IsLoopback() && !p.Addr().IsLinkLocalUnicast() {
			n++
		}
	}
	return n, nil
}

func prefixOf(a netlink.Addr) (netip.Prefix, bool) {
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	bits, _ := a.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), bits), true
}

func family(p netip.Prefix) int {
	if p.Addr().Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
