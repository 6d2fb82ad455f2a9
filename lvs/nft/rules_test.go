package nft

import (
	"context"
	"net/netip"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netns"

	"github.com/havsd/havsd/lvs"

	"github.com/havsd/havsd/test/need"
)

// needRoot skips without root, except in CI where it fails.
func needRoot(t *testing.T) {
	t.Helper()
	need.Root(t, "creates a network namespace and programs nftables in it")
}

// newNS creates an anonymous network namespace, closed at cleanup, and
// returns its fd.
func newNS(t *testing.T) int {
	t.Helper()
	needRoot(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	ns, err := netns.New()
	if err != nil {
		t.Fatalf("creating a network namespace: %v", err)
	}
	if err := netns.Set(orig); err != nil {
		t.Fatalf("returning to the original namespace: %v", err)
	}
	t.Cleanup(func() { ns.Close() })
	return int(ns)
}

var (
	vip   = netip.MustParseAddr("192.168.0.100")
	vip6  = netip.MustParseAddr("2001:db8::100")
	web   = lvs.MarkRule{Mark: 66, Addr: vip, Proto: lvs.TCP, Ports: []uint16{443, 80}}
	dns   = lvs.MarkRule{Mark: 53, Addr: vip6, Proto: lvs.UDP, Ports: []uint16{53}}
	snat1 = lvs.SNATRule{Dest: lvs.DestKey{Addr: netip.MustParseAddr("192.168.1.10"), Port: 80}, Proto: lvs.TCP, Source: netip.MustParseAddr("192.168.1.1")}
)

func TestApplyIdempotentAndAtomic(t *testing.T) {
	fd := newNS(t)
	r := New(Options{NetNSFd: fd, Table: "hv-lv-test"})
	ctx := context.Background()

	// Someone else's table must survive everything we do.
	c, err := nftables.New(nftables.WithNetNSFd(fd))
	if err != nil {
		t.Fatal(err)
	}
	other := c.AddTable(&nftables.Table{Name: "operator", Family: nftables.TableFamilyINet})
	c.AddChain(&nftables.Chain{Name: "input", Table: other, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter})
	if err := c.Flush(); err != nil {
		t.Fatalf("creating the operator's table: %v", err)
	}

	steps := []struct {
		name    string
		marks   []lvs.MarkRule
		snat    []lvs.SNATRule
		changed bool
		want    []string
	}{
		{"create", []lvs.MarkRule{web}, []lvs.SNATRule{snat1}, true, []string{
			"chain mark", "chain snat",
			"mark: havsd mark 66 daddr 192.168.0.100 tcp dport 80,443",
			"snat: havsd snat daddr 192.168.1.10 tcp dport 80 to 192.168.1.1",
		}},
		{"same again writes nothing", []lvs.MarkRule{web}, []lvs.SNATRule{snat1}, false, nil},
		{"add an IPv6 mark, drop the SNAT", []lvs.MarkRule{web, dns}, nil, true, []string{
			"chain mark",
			"mark: havsd mark 53 daddr 2001:db8::100 udp dport 53",
			"mark: havsd mark 66 daddr 192.168.0.100 tcp dport 80,443",
		}},
		{"nothing desired removes the table", nil, nil, true, nil},
		{"still nothing", nil, nil, false, nil},
	}
	var prev []string
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			changed, err := r.Apply(ctx, st.marks, st.snat)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if changed != st.changed {
				t.Errorf("changed = %v, want %v", changed, st.changed)
			}
			got, err := r.Dump()
			if err != nil {
				t.Fatalf("Dump: %v", err)
			}
			want := st.want
			if !st.changed {
				want = prev
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
			prev = got
		})
	}
	if _, err := c.ListTableOfFamily("operator", nftables.TableFamilyINet); err != nil {
		t.Errorf("the operator's table is gone: %v", err)
	}
}

func TestRulesReadBack(t *testing.T) {
	fd := newNS(t)
	r := New(Options{NetNSFd: fd, Table: "hv-lv-test"})
	if _, err := r.Apply(context.Background(), []lvs.MarkRule{web}, []lvs.SNATRule{snat1}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	c, _ := nftables.New(nftables.WithNetNSFd(fd))
	tbl := &nftables.Table{Name: "hv-lv-test", Family: nftables.TableFamilyINet}
	mark, err := c.GetRules(tbl, &nftables.Chain{Name: ChainMark, Table: tbl})
	if err != nil || len(mark) != 1 {
		t.Fatalf("mark rules: %v, %d", err, len(mark))
	}
	var lookup, setMark bool
	for _, e := range mark[0].Exprs {
		switch e := e.(type) {
		case *expr.Lookup:
			lookup = true
		case *expr.Meta:
			setMark = setMark || (e.Key == expr.MetaKeyMARK && e.SourceRegister)
		}
	}
	if !lookup || !setMark {
		t.Errorf("mark rule lacks the port set lookup (%v) or the mark statement (%v): %#v", lookup, setMark, mark[0].Exprs)
	}
	sn, err := c.GetRules(tbl, &nftables.Chain{Name: ChainSNAT, Table: tbl})
	if err != nil || len(sn) != 1 {
		t.Fatalf("snat rules: %v, %d", err, len(sn))
	}
	if _, ok := sn[0].Exprs[len(sn[0].Exprs)-1].(*expr.NAT); !ok {
		t.Errorf("snat rule does not end in a NAT statement: %#v", sn[0].Exprs)
	}

	// Drift: an operator deletes our rule; the next Apply rebuilds.
	c.FlushChain(&nftables.Chain{Name: ChainMark, Table: tbl})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	changed, err := r.Apply(context.Background(), []lvs.MarkRule{web}, []lvs.SNATRule{snat1})
	if err != nil || !changed {
		t.Fatalf("Apply after drift: changed %v, err %v", changed, err)
	}
	if err := r.Cleanup(); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if got, _ := r.Dump(); got != nil {
		t.Errorf("after Cleanup the table holds %v", got)
	}
	if err := r.Cleanup(); err != nil {
		t.Errorf("second Cleanup: %v", err)
	}
}

func TestInvalidRules(t *testing.T) {
	bad := []struct {
		name  string
		marks []lvs.MarkRule
		snat  []lvs.SNATRule
	}{
		{"ports without protocol", []lvs.MarkRule{{Mark: 1, Addr: vip, Ports: []uint16{80}}}, nil},
		{"zero mark", []lvs.MarkRule{{Addr: vip, Proto: lvs.TCP}}, nil},
		{"mixed families", nil, []lvs.SNATRule{{Dest: snat1.Dest, Proto: lvs.TCP, Source: vip6}}},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			if _, err := specs(b.marks, b.snat); err == nil {
				t.Error("specs accepted an invalid rule")
			}
		})
	}
}
