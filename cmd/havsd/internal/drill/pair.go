package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/havsd/havsd/cmd/havsd/internal/control"
)

// Director is one director of a real pair, reached through its control
// socket (root only, on the director's host).
type Director struct {
	Socket string
}

// statusJSON is the part of `havsd status --json` a drill reads.
type statusJSON struct {
	Instances []struct {
		Name      string   `json:"name"`
		Interface string   `json:"interface"`
		State     string   `json:"state"`
		VIPs      []string `json:"vips"`
	} `json:"instances"`
}

// MasterOf returns the director among ds that is master for the VIP addr
// (any instance when addr is invalid), with the instance's interface and
// the VIP as configured (with its prefix).
func MasterOf(ctx context.Context, ds []Director, addr netip.Addr) (Director, string, netip.Prefix, error) {
	var errs []error
	for _, d := range ds {
		raw, err := control.Call(ctx, d.Socket, control.Request{Command: "status"})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Socket, err))
			continue
		}
		var st statusJSON
		if err := json.Unmarshal(raw, &st); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Socket, err))
			continue
		}
		for _, in := range st.Instances {
			if in.State != "master" {
				continue
			}
			for _, v := range in.VIPs {
				p, err := netip.ParsePrefix(v)
				if err == nil && (!addr.IsValid() || p.Addr() == addr) {
					return d, in.Interface, p, nil
				}
			}
		}
	}
	if len(errs) > 0 {
		return Director{}, "", netip.Prefix{}, errors.Join(errs...)
	}
	return Director{}, "", netip.Prefix{}, fmt.Errorf("no master for %v among %d control sockets", addr, len(ds))
}

// PID is the daemon's process ID, from the peer credentials of its control
// socket.
func (d Director) PID(ctx context.Context) (int, error) {
	var dl net.Dialer
	c, err := dl.DialContext(ctx, "unix", d.Socket)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	rc, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var serr error
	if err := rc.Control(func(fd uintptr) { cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, fmt.Errorf("peer of %s: %w", d.Socket, serr)
	}
	return int(cred.Pid), nil
}

// Pause stops the daemon (SIGSTOP) for hold, as a frozen VM or a stalled
// host would, then lets it run again.
func (d Director) Pause(ctx context.Context, hold time.Duration) error {
	pid, err := d.PID(ctx)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pausing havsd (pid %d): %w", pid, err)
	}
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return syscall.Kill(pid, syscall.SIGCONT)
}

// DelVIP deletes the VIP from the daemon's interface behind its back, as a
// careless `ip addr del` would.
func (d Director) DelVIP(ctx context.Context, dev string, vip netip.Prefix) error {
	return d.inNetNS(ctx, func(h *netlink.Handle) error {
		l, err := h.LinkByName(dev)
		if err != nil {
			return err
		}
		a := &netlink.Addr{IPNet: &net.IPNet{IP: vip.Addr().AsSlice(), Mask: net.CIDRMask(vip.Bits(), vip.Addr().BitLen())}}
		if err := h.AddrDel(l, a); err != nil {
			return fmt.Errorf("deleting %v from %s: %w", vip, dev, err)
		}
		return nil
	})
}

// LinkDown sets the daemon's interface down for hold, then up again.
func (d Director) LinkDown(ctx context.Context, dev string, hold time.Duration) error {
	set := func(up bool) error {
		return d.inNetNS(ctx, func(h *netlink.Handle) error {
			l, err := h.LinkByName(dev)
			if err != nil {
				return err
			}
			if up {
				return h.LinkSetUp(l)
			}
			return h.LinkSetDown(l)
		})
	}
	if err := set(false); err != nil {
		return fmt.Errorf("setting %s down: %w", dev, err)
	}
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	if err := set(true); err != nil {
		return fmt.Errorf("setting %s up: %w", dev, err)
	}
	return nil
}

// inNetNS runs f with a netlink handle in the daemon's network namespace.
func (d Director) inNetNS(ctx context.Context, f func(*netlink.Handle) error) error {
	pid, err := d.PID(ctx)
	if err != nil {
		return err
	}
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return fmt.Errorf("network namespace of havsd (pid %d): %w", pid, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return f(h)
}

// Sockets is a flag.Value collecting repeated -s flags.
type Sockets []Director

func (s *Sockets) String() string {
	var ps []string
	for _, d := range *s {
		ps = append(ps, d.Socket)
	}
	return strings.Join(ps, ",")
}

// Set adds one socket.
func (s *Sockets) Set(v string) error {
	*s = append(*s, Director{Socket: v})
	return nil
}
