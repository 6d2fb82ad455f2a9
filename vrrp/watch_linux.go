package vrrp

import (
	"context"
	"net"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NetlinkWatcher watches links and addresses through netlink subscriptions.
type NetlinkWatcher struct{}

var (
	_ LinkWatcher = NetlinkWatcher{}
	_ AddrWatcher = NetlinkWatcher{}
)

// Watch implements LinkWatcher.
func (NetlinkWatcher) Watch(ctx context.Context, names []string, out chan<- LinkState) error {
	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	errs := make(chan error, 1)
	err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{
		ListExisting:  true,
		ErrorCallback: func(err error) { trySend(errs, err) },
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := net.InterfaceByName(n); err != nil {
			select {
			case out <- LinkState{Name: n, Gone: true}:
			case <-ctx.Done():
				return nil
			}
		}
	}
	for {
		select {
		case u, ok := <-updates:
			if !ok {
				return nil
			}
			a := u.Attrs()
			if !slices.Contains(names, a.Name) {
				continue
			}
			gone := u.Header.Type == unix.RTM_DELLINK
			up := !gone && a.RawFlags&unix.IFF_UP != 0 && a.RawFlags&unix.IFF_RUNNING != 0
			select {
			case out <- LinkState{Name: a.Name, Up: up, Gone: gone, Index: a.Index}:
			case <-ctx.Done():
				return nil
			}
		case err := <-errs:
			return err
		case <-ctx.Done():
			return nil
		}
	}
}

// WatchAddrs implements AddrWatcher.
func (NetlinkWatcher) WatchAddrs(ctx context.Context, kick chan<- struct{}) error {
	updates := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	errs := make(chan error, 1)
	err := netlink.AddrSubscribeWithOptions(updates, done, netlink.AddrSubscribeOptions{
		ErrorCallback: func(err error) { trySend(errs, err) },
	})
	if err != nil {
		return err
	}
	for {
		select {
		case _, ok := <-updates:
			if !ok {
				return nil
			}
			trySend(kick, struct{}{})
		case err := <-errs:
			return err
		case <-ctx.Done():
			return nil
		}
	}
}

func trySend[T any](c chan<- T, v T) {
	select {
	case c <- v:
	default:
	}
}
