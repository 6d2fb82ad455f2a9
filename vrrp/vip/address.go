package vip

import "net/netip"

// Address is a virtual address on a device.
type Address struct {
	Dev    string
	Prefix netip.Prefix
}

func (a Address) String() string { return a.Prefix.String() + " dev " + a.Dev }
