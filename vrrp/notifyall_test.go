package vrrp

import (
	"bufio"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenericNotifyAndFIFO: the generic notify command gets keepalived's
// arguments, and the notify FIFO keepalived's lines, for the instances and
// their sync group, stop included.
func TestGenericNotifyAndFIFO(t *testing.T) {
	lb := newLab(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "generic")
	fifo, err := OpenNotifyFIFO(filepath.Join(dir, "notify.fifo"), discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fifo.Close() })
	reader, err := os.OpenFile(filepath.Join(dir, "notify.fifo"), os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	lines := make(chan string, 32)
	go func() {
		sc := bufio.NewScanner(reader)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	generic := []string{"/bin/sh", "-c", `echo "$@" >> ` + out, "notify"}
	ca := testConfig("ext", 200)
	ca.Notify.Generic = generic
	d := &director{vips: newFakeVIPs("ext", lb.ops), conn: lb.hub.conn(netip.MustParseAddr("10.0.0.1")), done: make(chan error, 1)}
	inst, err := NewInstance(ca, Options{Conn: d.conn, VIPs: d.vips, Clock: lb.clock, Links: &fakeLinks{}, Addrs: noAddrs{}, Logger: discard(), FIFO: fifo})
	if err != nil {
		t.Fatal(err)
	}
	d.inst = inst
	if _, err := NewGroup(SyncGroup{Name: "g", Instances: []string{"ext"}, Notify: Notify{Generic: generic}}, []*Instance{inst}, discard()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { d.done <- inst.Run(ctx) }()
	lb.waitFor("master", func() bool { return d.state() == StateMaster })
	cancel()
	lb.waitFor("stopped", func() bool { return len(d.done) == 1 })

	want := []string{`INSTANCE "ext" BACKUP 200`, `GROUP "g" BACKUP`, `INSTANCE "ext" MASTER 200`, `GROUP "g" MASTER`, `INSTANCE "ext" STOP 200`, `GROUP "g" STOP`}
	for _, w := range want {
		lb.waitFor("FIFO line "+w, func() bool {
			select {
			case got := <-lines:
				if got != w {
					t.Fatalf("FIFO line %q, want %q", got, w)
				}
				return true
			default:
				return false
			}
		})
	}
	lb.waitFor("generic notify ran for every transition", func() bool {
		b, _ := os.ReadFile(out)
		return strings.Count(string(b), "\n") == len(want)
	})
	b, _ := os.ReadFile(out)
	for _, w := range []string{"INSTANCE ext MASTER 200", "GROUP g MASTER", "INSTANCE ext STOP 200", "GROUP g STOP"} {
		if !strings.Contains(string(b), w+"\n") {
			t.Errorf("generic notify output lacks %q:\n%s", w, b)
		}
	}
}
