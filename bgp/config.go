package bgp

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/havsd/havsd/bgp/community"
)

// Config is a speaker's configuration: the local AS and router id, whether to
// accept connections, the communities on every route and the neighbours.
type Config struct {
	ASN         uint32
	RouterID    netip.Addr // must be IPv4
	ListenPort  int        // 0 = do not listen (connect to neighbours only); -1 is reserved
	Communities []string   // "65000:100", attached to every announced route
	Neighbors   []Neighbor
}

// Neighbor is one BGP peer.
type Neighbor struct {
	Address  netip.Addr
	ASN      uint32
	HoldTime time.Duration // whole seconds, 0 = GoBGP's default (90 s); keepalive = HoldTime/3
	Password string        // TCP MD5 signature (RFC 2385), "" = none
	Source   netip.Addr    // local address of the session, zero = the kernel chooses
	Multihop uint8         // eBGP multihop TTL, 0 = directly connected
	Port     int           // neighbour's port, 0 = 179
}

// Route is one prefix the speaker should announce.
type Route struct {
	Prefix           netip.Prefix // the VIP as a /32 or /128
	NextHop          netip.Addr   // zero = next hop self (the session's local address)
	GracefulShutdown bool         // add the RFC 8326 GRACEFUL_SHUTDOWN community (65535:0)
	Reason           string       // why the caller wants it announced, for the log
}

// GracefulShutdownCommunity is RFC 8326's GRACEFUL_SHUTDOWN, 65535:0.
const GracefulShutdownCommunity = community.GracefulShutdown

// MinHoldTime is the smallest non-zero hold time BGP allows (RFC 4271 4.2).
const MinHoldTime = 3 * time.Second

// ParseCommunity parses an RFC 1997 community written "ASN:VALUE", each half
// 0..65535.
func ParseCommunity(s string) (uint32, error) { return community.Parse(s) }

// FormatCommunity writes a community as "ASN:VALUE".
func FormatCommunity(c uint32) string { return community.Format(c) }

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.ASN == 0 {
		errs = append(errs, errors.New("local ASN is 0"))
	}
	if !c.RouterID.Is4() {
		errs = append(errs, fmt.Errorf("router id %v is not an IPv4 address", c.RouterID))
	}
	if c.ListenPort < 0 || c.ListenPort > 65535 {
		errs = append(errs, fmt.Errorf("listen port %d out of range 0-65535", c.ListenPort))
	}
	for _, s := range c.Communities {
		if _, err := ParseCommunity(s); err != nil {
			errs = append(errs, err)
		}
	}
	seen := map[netip.Addr]bool{}
	for _, n := range c.Neighbors {
		if seen[n.Address] {
			errs = append(errs, fmt.Errorf("neighbour %v listed twice", n.Address))
		}
		seen[n.Address] = true
		if err := n.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (n Neighbor) validate() error {
	var errs []error
	if !n.Address.IsValid() || n.Address.IsUnspecified() {
		errs = append(errs, fmt.Errorf("neighbour address %v is not a unicast address", n.Address))
	}
	if n.ASN == 0 {
		errs = append(errs, errors.New("ASN is 0"))
	}
	if n.HoldTime != 0 && (n.HoldTime < MinHoldTime || n.HoldTime%time.Second != 0 || n.HoldTime > 65535*time.Second) {
		errs = append(errs, fmt.Errorf("hold time %v: want 0 or whole seconds from 3s to 65535s", n.HoldTime))
	}
	if n.Source.IsValid() && n.Address.IsValid() && n.Source.Is4() != n.Address.Is4() {
		errs = append(errs, fmt.Errorf("source %v and neighbour are not the same family", n.Source))
	}
	if n.Port < 0 || n.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range 0-65535", n.Port))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("neighbour %v: %w", n.Address, err)
	}
	return nil
}

// keepalive is a third of the hold time in whole seconds (0 lets GoBGP choose).
func (n Neighbor) keepalive() time.Duration {
	return (n.HoldTime / 3).Truncate(time.Second)
}

// neighborsByAddr indexes neighbours by address.
func neighborsByAddr(ns []Neighbor) map[netip.Addr]Neighbor {
	m := make(map[netip.Addr]Neighbor, len(ns))
	for _, n := range ns {
		m[n.Address] = n
	}
	return m
}

// globalChanged says whether going from a to b needs the GoBGP server
// restarted (local AS, router id and listening are fixed once it starts).
func globalChanged(a, b Config) bool {
	return a.ASN != b.ASN || a.RouterID != b.RouterID || a.ListenPort != b.ListenPort
}
