//go:build !linux

package checks

import (
	"errors"
	"syscall"
)

// bindToDevice fails: binding a socket to an interface is Linux only.
func bindToDevice(ifname string) func(network, address string, c syscall.RawConn) error {
	return func(string, string, syscall.RawConn) error {
		return &bindIfError{ifname: ifname, err: errors.New("not supported on this system")}
	}
}
