package checks

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindToDevice returns a dialer Control that binds the socket to the
// interface (SO_BINDTODEVICE), keepalived's bind_if.
func bindToDevice(ifname string) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname)
		}); err != nil {
			return err
		}
		if serr != nil {
			return &bindIfError{ifname: ifname, err: serr}
		}
		return nil
	}
}
