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
	if l.ev != nil {
		// The loop waits in its event loop: forward each input and
		// kick it.
		out, kick = make(chan LinkState, cap(l.linkCh)), make(chan struct{}, 1)
		l.watches.Add(1)
		go func() {
			defer l.watches.Done()
			l.forward(ctx, out, kick)
		}()
	}
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

// forward passes the watchers' inputs on to the loop's channels, kicking
// its event loop after each.
func (l *loop) forward(ctx context.Context, links <-chan LinkState, addrs <-chan struct{}) {
	for {
		select {
		case ls := <-links:
			select {
			case l.linkCh <- ls:
			case <-ctx.Done():
				return
			}
		case <-addrs:
			select {
			case l.addrCh <- struct{}{}:
			default:
			}
		case <-ctx.Done():
			return
		}
		l.i.kick()
	}
}

// stopWatch stops the watchers and waits for them. A watcher blocked on
// sending a link state gives up on ctx.
func (l *loop) stopWatch() {
	l.watch()
	l.watches.Wait()
}
