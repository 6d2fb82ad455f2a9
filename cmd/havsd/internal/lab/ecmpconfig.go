package lab

import (
	"fmt"
	"time"

	"github.com/havsd/havsd/netlab"
)

// ECMPParams are the settings of an ECMP lab.
type ECMPParams struct {
	Directors int           // directors announcing the VIP (3 by default)
	Reals     int           // real servers every director checks
	Sources   int           // extra client source addresses
	HoldTime  time.Duration // BGP hold time, both sides (BIRD's minimum is 3s)
	// CheckInterval is the real servers' HTTP check interval; a director
	// sees them fail after two missed checks (retry 1).
	CheckInterval time.Duration
	// Extra adds BGP neighbours to every director beyond the router
	// (for the bad-neighbour tests: wrong ASN, nobody listening).
	Extra []netlab.ECMPNeighbor
}

// DefaultECMPParams are the lab's defaults.
func DefaultECMPParams() ECMPParams {
	return ECMPParams{Directors: 3, Reals: 2, Sources: 64, HoldTime: 3 * time.Second, CheckInterval: 300 * time.Millisecond}
}

// Validate checks the settings.
func (p ECMPParams) Validate() error {
	if err := p.topo(false).Validate(); err != nil {
		return err
	}
	switch {
	case p.Reals < 1:
		return fmt.Errorf("ecmp lab: needs at least one real server")
	case p.HoldTime < 3*time.Second || p.HoldTime%time.Second != 0:
		return fmt.Errorf("ecmp lab: hold time must be whole seconds, at least 3s (BIRD's minimum), not %s", p.HoldTime)
	case p.CheckInterval < 10*time.Millisecond:
		return fmt.Errorf("ecmp lab: check interval %s is too short", p.CheckInterval)
	}
	return nil
}

func (p ECMPParams) topo(vipOnLo bool) netlab.ECMPOptions {
	return netlab.ECMPOptions{Directors: p.Directors, Reals: p.Reals, Sources: p.Sources, VIPOnDirectors: vipOnLo, HeaderHash: true}
}

// Bird is the router's BIRD configuration.
func (p ECMPParams) Bird() netlab.BirdConf { return netlab.ECMPBird(p.Directors, p.HoldTime) }

// ECMPConfig renders the HCL of director i (0-based).
func (p ECMPParams) ECMPConfig(i int, socket string) string {
	return netlab.ECMPHavsd{Director: i, Socket: socket, HoldTime: p.HoldTime, CheckInterval: p.CheckInterval, Reals: p.Reals, Extra: p.Extra}.String()
}
