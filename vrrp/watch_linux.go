package vrrp

import (
	"context"
	"fmt"
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
		ErrorCallback: func(err error) { keepLatest(errs, err) },
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
				return subscriptionEnded(ctx, "link", errs)
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
		ErrorCallback: func(err error) { keepLatest(errs, err) },
	})
	if err != nil {
		return err
	}
	for {
		select {
		case _, ok := <-updates:
			if !ok {
				return subscriptionEnded(ctx, "address", errs)
			}
			trySend(kick, struct{}{})
		case <-ctx.Done():
			return nil
		}
	}
}

// subscriptionEnded is the error of a netlink subscription whose channel
// closed: the library closes it only when the socket fails. Errors it
// reports through ErrorCallback without closing are not fatal (a message
// from a user-space sender, "Wrong sender portid", is skipped by the
// library): the watcher keeps going and errs keeps the latest, for here.
func subscriptionEnded(ctx context.Context, what string, errs <-chan error) error {
	if ctx.Err() != nil {
		return nil
	}
	select {
	case err := <-errs:
		return fmt.Errorf("netlink %s subscription ended: %w", what, err)
	default:
		return fmt.Errorf("netlink %s subscription ended", what)
	}
}

// keepLatest replaces the error held in a one-slot channel.
func keepLatest(c chan error, err error) {
	select {
	case <-c:
	default:
	}
	trySend(c, err)
}

func trySend[T any](c chan<- T, v T) {
	select {
	case c <- v:
	default:
	}
}
