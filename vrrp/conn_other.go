//go:build !linux

package vrrp

import (
	"errors"
	"net"
	"net/netip"
)

// RawConn is the protocol-112 socket; it exists on Linux only.
type RawConn struct{ Conn }

// Listen fails: raw VRRP sockets are implemented for Linux only.
func Listen(cfg Config) (*RawConn, error) {
	return nil, errors.New("VRRP sockets need Linux")
}

// PrimaryAddr fails: see Listen.
func PrimaryAddr(cfg Config, ifi *net.Interface) (netip.Addr, error) {
	return netip.Addr{}, errors.New("VRRP sockets need Linux")
}

// FilterSiblings fails: see Listen.
func (c *RawConn) FilterSiblings(own uint8, siblings []uint8) error {
	return errors.New("VRRP sockets need Linux")
}
