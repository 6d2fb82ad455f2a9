//go:build !linux

package vip

import (
	"errors"
	"log/slog"
	"net/netip"
)

// Manager manages addresses; this system has no implementation.
type Manager struct{}

var errUnsupported = errors.New("managing VIPs needs Linux netlink")

// NewManager returns a Manager whose operations fail.
func NewManager(log *slog.Logger) *Manager { return &Manager{} }

// Add fails.
func (m *Manager) Add(a Address) error { return errUnsupported }

// Remove fails.
func (m *Manager) Remove(a Address) error { return errUnsupported }

// List fails.
func (m *Manager) List(dev string) ([]netip.Prefix, error) { return nil, errUnsupported }

// Has fails.
func (m *Manager) Has(a Address) (bool, error) { return false, errUnsupported }

// RemoveStale fails.
func (m *Manager) RemoveStale(addrs []Address) ([]Address, error) { return nil, errUnsupported }

// Announce fails.
func (m *Manager) Announce(dev string, addrs []netip.Addr) error { return errUnsupported }
