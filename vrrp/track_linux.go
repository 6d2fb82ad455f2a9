package vrrp

import (
	"context"
	"net"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// LinkState is the carrier state of a tracked interface.
type LinkState struct {
	Name string
	Up   bool
}

// LinkWatcher reports the state of the named links, first their current
// state and then every change, until ctx is done.
type LinkWatcher interface {
	Watch(ctx context.Context, names []string, out chan<- LinkState) error
}

// NetlinkWatcher watches links through a netlink subscription.
type NetlinkWatcher struct{}

// Watch implements LinkWatcher.
func (NetlinkWatcher) Watch(ctx context.Context, names []string, out chan<- LinkState) error {
	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	errs := make(chan error, 1)
	err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{
		ListExisting: true,
		ErrorCallback: func(err error) {
			select {
			case errs <- err:
			default:
			}
		},
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		// A link that does not exist counts as down.
		if _, err := net.InterfaceByName(n); err != nil {
			select {
			case out <- LinkState{Name: n, Up: false}:
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
			up := a.RawFlags&unix.IFF_UP != 0 && a.RawFlags&unix.IFF_RUNNING != 0 && u.Header.Type != unix.RTM_DELLINK
			select {
			case out <- LinkState{Name: a.Name, Up: up}:
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

// startWatch starts watching the tracked links, if any.
func (l *loop) startWatch(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	l.watch = cancel
	if len(l.cfg.Track) == 0 {
		return
	}
	names := make([]string, 0, len(l.cfg.Track))
	for _, t := range l.cfg.Track {
		names = append(names, t.Name)
	}
	w := l.i.opts.Links
	if w == nil {
		w = NetlinkWatcher{}
	}
	out, log := l.linkCh, l.log
	go func() {
		if err := w.Watch(ctx, names, out); err != nil && ctx.Err() == nil {
			log.Error("watching tracked interfaces", "err", err)
		}
	}()
}
