package vrrp

import "context"

// startWatch watches the instance's interface and its tracked links, and
// the host's addresses (for VIP drift).
func (l *loop) startWatch(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	l.watch = cancel
	names := []string{l.cfg.Interface}
	for _, t := range l.cfg.Track {
		if t.Name != l.cfg.Interface {
			names = append(names, t.Name)
		}
	}
	var links LinkWatcher = NetlinkWatcher{}
	if l.i.opts.Links != nil {
		links = l.i.opts.Links
	}
	var addrs AddrWatcher = NetlinkWatcher{}
	if l.i.opts.Addrs != nil {
		addrs = l.i.opts.Addrs
	}
	out, kick, log := l.linkCh, l.addrCh, l.log
	l.watches.Add(2)
	go func() {
		defer l.watches.Done()
		if err := links.Watch(ctx, names, out); err != nil && ctx.Err() == nil {
			log.Error("watching interfaces", "err", err)
		}
	}()
	go func() {
		defer l.watches.Done()
		if err := addrs.WatchAddrs(ctx, kick); err != nil && ctx.Err() == nil {
			log.Error("watching addresses; VIP drift is found by the periodic check only", "err", err)
		}
	}()
}

// stopWatch stops the watchers and waits for them. A watcher blocked on
// sending a link state gives up on ctx.
func (l *loop) stopWatch() {
	l.watch()
	l.watches.Wait()
}
