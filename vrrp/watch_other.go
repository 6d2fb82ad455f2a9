//go:build !linux

package vrrp

import (
	"context"
	"errors"
)

// NetlinkWatcher stands in for the netlink watcher on systems without
// netlink: it reports nothing and fails.
type NetlinkWatcher struct{}

var errNoNetlink = errors.New("link and address watching needs Linux netlink")

// Watch implements LinkWatcher.
func (NetlinkWatcher) Watch(ctx context.Context, names []string, out chan<- LinkState) error {
	return errNoNetlink
}

// WatchAddrs implements AddrWatcher.
func (NetlinkWatcher) WatchAddrs(ctx context.Context, kick chan<- struct{}) error {
	return errNoNetlink
}
