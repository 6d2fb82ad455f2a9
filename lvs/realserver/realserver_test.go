package realserver

import (
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/havsd/havsd/test/need"
)

func needRoot(t *testing.T) {
	t.Helper()
	need.Root(t, "runs in a network namespace it creates")
}

// inNewNS runs fn on a thread moved into a fresh network namespace; the
// thread is discarded afterwards, so the namespace dies with it.
func inNewNS(t *testing.T, fn func()) {
	t.Helper()
	needRoot(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		ns, err := netns.New()
		if err != nil {
			t.Errorf("creating a network namespace: %v", err)
			return
		}
		defer ns.Close()
		fn()
	}()
	<-done
}

func sysctlVal(t *testing.T, dev, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc/sys/net/ipv4/conf", dev, name))
	if err != nil {
		t.Errorf("reading %s/%s: %v", dev, name, err)
	}
	return strings.TrimSpace(string(b))
}

func addrsOf(t *testing.T, dev string) []string {
	t.Helper()
	link, err := netlink.LinkByName(dev)
	if err != nil {
		t.Errorf("finding %s: %v", dev, err)
		return nil
	}
	addrs, _ := netlink.AddrList(link, netlink.FAMILY_V4)
	var out []string
	for _, a := range addrs {
		out = append(out, a.IPNet.String())
	}
	return out
}

func TestSetupUndoDR(t *testing.T) {
	state := t.TempDir()
	inNewNS(t, func() {
		cfg := Config{VIP: netip.MustParsePrefix("192.168.0.100/32"), Mode: ModeDR, StateDir: state}
		got, err := Setup(cfg)
		if err != nil {
			t.Errorf("Setup: %v", err)
			return
		}
		want := []string{
			"set lo up",
			"set net.ipv4.conf.all.arp_ignore=1 (was 0)",
			"set net.ipv4.conf.all.arp_announce=2 (was 0)",
			"set net.ipv4.conf.lo.arp_ignore=1 (was 0)",
			"set net.ipv4.conf.lo.arp_announce=2 (was 0)",
			"added 192.168.0.100/32 to lo",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Setup changes (-want +got):\n%s", diff)
		}
		if again, err := Setup(cfg); err != nil || len(again) != 0 {
			t.Errorf("second Setup: %v, %v; want no change", again, err)
		}
		if diff := cmp.Diff([]string{"127.0.0.1/8", "192.168.0.100/32"}, addrsOf(t, "lo")); diff != "" {
			t.Errorf("lo addresses (-want +got):\n%s", diff)
		}
		if v := sysctlVal(t, "all", "arp_ignore") + sysctlVal(t, "all", "arp_announce"); v != "12" {
			t.Errorf("all arp_ignore+arp_announce = %s, want 1 and 2", v)
		}
		undo, err := Undo(cfg)
		if err != nil {
			t.Errorf("Undo: %v", err)
		}
		if len(undo) != 5 || undo[0] != "removed 192.168.0.100/32 from lo" || undo[1] != "set net.ipv4.conf.all.arp_ignore=0 (as found before setup; was 1)" {
			t.Errorf("Undo changes: %q", undo)
		}
		if diff := cmp.Diff([]string{"127.0.0.1/8"}, addrsOf(t, "lo")); diff != "" {
			t.Errorf("lo addresses after Undo (-want +got):\n%s", diff)
		}
		if v := sysctlVal(t, "lo", "arp_ignore") + sysctlVal(t, "all", "arp_announce"); v != "00" {
			t.Errorf("after Undo arp sysctls = %s, want 0 and 0", v)
		}
		if again, err := Undo(cfg); err != nil || len(again) != 0 {
			t.Errorf("second Undo: %v, %v; want no change", again, err)
		}
	})
}

func TestUndoKeepsSysctlsForOtherVIPs(t *testing.T) {
	state := t.TempDir()
	inNewNS(t, func() {
		a := Config{VIP: netip.MustParsePrefix("192.168.0.100/32"), Mode: ModeDR, StateDir: state}
		b := Config{VIP: netip.MustParsePrefix("192.168.0.101/32"), Mode: ModeDR, StateDir: state}
		for _, c := range []Config{a, b} {
			if _, err := Setup(c); err != nil {
				t.Errorf("Setup: %v", err)
				return
			}
		}
		undo, err := Undo(a)
		if err != nil || len(undo) != 1 {
			t.Errorf("Undo with another VIP left: %q, %v; want only the address removed", undo, err)
		}
		if sysctlVal(t, "all", "arp_ignore") != "1" {
			t.Error("arp_ignore reset while a VIP is still on lo")
		}
	})
}

func TestConfigErrors(t *testing.T) {
	if _, err := ParseMode("nat"); err == nil {
		t.Error("ParseMode accepted nat: NAT real servers need no preparation")
	}
	p, err := ParseVIP("2001:db8::1")
	if err != nil || p.Bits() != 128 {
		t.Errorf("ParseVIP bare IPv6 = %v, %v", p, err)
	}
	if _, err := Setup(Config{Mode: ModeDR}); err == nil {
		t.Error("Setup without a VIP succeeded")
	}
	for _, vip := range []string{"192.168.0.100/24", "2001:db8::1/64"} {
		cfg := Config{VIP: netip.MustParsePrefix(vip), Mode: ModeDR, StateDir: t.TempDir()}
		if _, err := Setup(cfg); err == nil || !strings.Contains(err.Error(), "not a host address") {
			t.Errorf("Setup(%s) = %v, want a refusal: not a host address", vip, err)
		}
	}
}

// TestUndoRestoresFound: Undo puts back the sysctl values Setup found (2
// here, not the 0 an unprepared host has), and leaves one changed since.
func TestUndoRestoresFound(t *testing.T) {
	state := t.TempDir()
	inNewNS(t, func() {
		write := func(dev, name, val string) {
			if err := os.WriteFile(filepath.Join("/proc/sys/net/ipv4/conf", dev, name), []byte(val), 0o644); err != nil {
				t.Errorf("writing %s/%s: %v", dev, name, err)
			}
		}
		write("all", "arp_ignore", "2")
		write("lo", "arp_announce", "1")
		cfg := Config{VIP: netip.MustParsePrefix("192.168.0.100/32"), Mode: ModeDR, StateDir: state}
		if _, err := Setup(cfg); err != nil {
			t.Errorf("Setup: %v", err)
			return
		}
		write("lo", "arp_ignore", "8") // the operator's change after setup
		undo, err := Undo(cfg)
		if err != nil {
			t.Errorf("Undo: %v", err)
		}
		want := []string{
			"removed 192.168.0.100/32 from lo",
			"set net.ipv4.conf.all.arp_ignore=2 (as found before setup; was 1)",
			"set net.ipv4.conf.all.arp_announce=0 (as found before setup; was 2)",
			"left net.ipv4.conf.lo.arp_ignore=8: changed since setup set it to 1",
			"set net.ipv4.conf.lo.arp_announce=1 (as found before setup; was 2)",
		}
		if diff := cmp.Diff(want, undo); diff != "" {
			t.Errorf("Undo changes (-want +got):\n%s", diff)
		}
		got := sysctlVal(t, "all", "arp_ignore") + sysctlVal(t, "all", "arp_announce") + sysctlVal(t, "lo", "arp_announce")
		if got != "201" {
			t.Errorf("after Undo all.arp_ignore, all.arp_announce, lo.arp_announce = %s, want 2, 0, 1", got)
		}
		if _, err := os.Stat(filepath.Join(state, stateFile)); !os.IsNotExist(err) {
			t.Errorf("the record of found values outlives the undo: %v", err)
		}
	})
}
