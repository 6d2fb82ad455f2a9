package director

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/havsd/havsd/test/poll"
	vipmgr "github.com/havsd/havsd/vrrp/vip"
)

// fakeAddrs is a device's address list.
type fakeAddrs struct {
	mu    sync.Mutex
	have  map[string][]netip.Prefix
	calls []string
}

func (f *fakeAddrs) Add(a vipmgr.Address) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "add "+a.String())
	if !slices.Contains(f.have[a.Dev], a.Prefix) {
		f.have[a.Dev] = append(f.have[a.Dev], a.Prefix)
	}
	return nil
}

func (f *fakeAddrs) Remove(a vipmgr.Address) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "remove "+a.String())
	f.have[a.Dev] = slices.DeleteFunc(f.have[a.Dev], func(p netip.Prefix) bool { return p == a.Prefix })
	return nil
}

func (f *fakeAddrs) List(dev string) ([]netip.Prefix, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.have[dev]), nil
}

func (f *fakeAddrs) on(dev string) []netip.Prefix {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.have[dev])
	slices.SortFunc(out, netip.Prefix.Compare)
	return out
}

// fakeAddrWatch hands the test the watcher's kick channel.
type fakeAddrWatch struct{ kick chan chan<- struct{} }

func (w fakeAddrWatch) WatchAddrs(ctx context.Context, kick chan<- struct{}) error {
	w.kick <- kick
	<-ctx.Done()
	return nil
}

func writeSysctl(t *testing.T, root, key, val string) {
	t.Helper()
	p := filepath.Join(root, strings.ReplaceAll(key, ".", "/"))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(val+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readSysctl(t *testing.T, root, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, strings.ReplaceAll(key, ".", "/")))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestLoopbackVIPs(t *testing.T) {
	foreign := netip.MustParsePrefix("198.51.100.7/32") // a real server's VIP, say
	addrs := &fakeAddrs{have: map[string][]netip.Prefix{"lo": {netip.MustParsePrefix("127.0.0.1/8"), foreign}}}
	watch := fakeAddrWatch{kick: make(chan chan<- struct{}, 1)}
	root := t.TempDir()
	writeSysctl(t, root, "net.ipv4.conf.all.arp_ignore", "0")
	writeSysctl(t, root, "net.ipv4.conf.all.arp_announce", "0")
	l := newLoopbackVIPs(addrs, watch, nil, time.Hour, true)
	l.SysctlRoot = root
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	events := <-watch.kick
	want := func(what string, ps ...netip.Prefix) {
		t.Helper()
		ps = append(ps, netip.MustParsePrefix("127.0.0.1/8"), foreign)
		slices.SortFunc(ps, netip.Prefix.Compare)
		poll.Until(t, 5*time.Second, what, func() bool { return slices.Equal(addrs.on("lo"), ps) })
	}

	l.Set([]netip.Prefix{p4, p6})
	want("both VIPs on lo", p4, p6)
	if got := readSysctl(t, root, "net.ipv4.conf.all.arp_ignore"); got != "1" {
		t.Errorf("arp_ignore = %s, want 1 with an IPv4 VIP on lo", got)
	}
	if got := readSysctl(t, root, "net.ipv4.conf.all.arp_announce"); got != "2" {
		t.Errorf("arp_announce = %s, want 2", got)
	}
	poll.Until(t, 5*time.Second, "status holds both", func() bool { return len(l.Status().Held) == 2 })

	// Someone removes a VIP: the address event repairs it, without waiting
	// for the (hour-long) periodic re-read.
	if err := addrs.Remove(vipmgr.Address{Prefix: p4, Dev: "lo"}); err != nil {
		t.Fatal(err)
	}
	events <- struct{}{}
	want("repaired after an address event", p4, p6)

	// A VIP no service announces any more goes; the foreign one stays.
	l.Set([]netip.Prefix{p6})
	want("p4 removed", p6)

	// havsd stops: every VIP it owns goes, nothing else.
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil
	want("only the foreign VIP left at stop")
}

func TestLoopbackVIPsReportsARPSysctlsNotAllowed(t *testing.T) {
	addrs := &fakeAddrs{have: map[string][]netip.Prefix{}}
	root := t.TempDir()
	writeSysctl(t, root, "net.ipv4.conf.all.arp_ignore", "0")
	writeSysctl(t, root, "net.ipv4.conf.all.arp_announce", "2")
	l := newLoopbackVIPs(addrs, fakeAddrWatch{kick: make(chan chan<- struct{}, 1)}, nil, time.Hour, false)
	l.SysctlRoot = root
	l.Set([]netip.Prefix{p4})
	l.pass()
	if got := readSysctl(t, root, "net.ipv4.conf.all.arp_ignore"); got != "0" {
		t.Errorf("arp_ignore written though set_sysctls is off: %s", got)
	}
	st := l.Status()
	if len(st.Held) != 1 || !slices.ContainsFunc(st.ARP, func(s string) bool {
		return strings.Contains(s, "arp_ignore is 0 but") && strings.Contains(s, "needs 1")
	}) {
		t.Errorf("status = %+v, want the VIP held and arp_ignore reported", st)
	}
}
