package lvs_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/lvs"
	"github.com/havsd/havsd/lvs/lvstest"
	"github.com/havsd/havsd/test/poll"
)

func key(addr string, port uint16) lvs.ServiceKey {
	a := netip.MustParseAddr(addr)
	return lvs.ServiceKey{Family: lvs.FamilyOf(a), Proto: lvs.TCP, Addr: a, Port: port}
}

func real(addr string, port uint16, w int) lvs.Destination {
	return lvs.Destination{Addr: netip.MustParseAddr(addr), Port: port, Weight: w, Forward: lvs.Masq}
}

func natLab(w1, w2 int) lvs.Service {
	return lvs.Service{Key: key("172.0.0.30", 80), Scheduler: "wrr",
		Destinations: []lvs.Destination{real("192.168.1.10", 80, w1), real("192.168.1.20", 80, w2)}}
}

func reconcile(t *testing.T, r *lvs.Reconciler) lvs.Result {
	t.Helper()
	res, err := r.Reconcile(context.Background())
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	return res
}

func TestReconcileWrites(t *testing.T) {
	fake := lvstest.NewFake()
	r := lvs.NewReconciler(fake, lvs.ReconcilerOptions{})
	r.SetDesired(lvs.Desired{Services: []lvs.Service{natLab(2, 1)}})
	reconcile(t, r)
	if got := fake.Counts(); got.NewService != 1 || got.NewDestination != 2 || got.Writes() != 3 || got.Dumps != 1 {
		t.Fatalf("first pass counts = %+v, want 1 service + 2 destinations, 1 dump", got)
	}
	steps := []struct {
		name   string
		set    lvs.Service
		writes lvstest.Counts
	}{
		{"no change: zero writes", natLab(2, 1), lvstest.Counts{Dumps: 1}},
		{"weight change: one write", natLab(3, 1), lvstest.Counts{Dumps: 1, UpdateDestination: 1}},
		{"drain to weight 0: one write", natLab(3, 0), lvstest.Counts{Dumps: 1, UpdateDestination: 1}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			fake.ResetCounts()
			r.SetDesired(lvs.Desired{Services: []lvs.Service{st.set}})
			reconcile(t, r)
			if diff := cmp.Diff(st.writes, fake.Counts()); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			got, _ := fake.Services()
			if len(got) != 1 || !got[0].Equal(st.set) {
				t.Errorf("table = %+v, want %+v", got, st.set)
			}
		})
	}
}

func TestReconcileOwnership(t *testing.T) {
	foreign := lvs.Service{Key: key("10.9.9.9", 53), Scheduler: "rr"}
	other := lvs.Service{Key: key("172.0.0.30", 443), Scheduler: "rr"}
	for _, prune := range []bool{false, true} {
		t.Run(map[bool]string{false: "report", true: "prune"}[prune], func(t *testing.T) {
			fake := lvstest.NewFake(foreign)
			r := lvs.NewReconciler(fake, lvs.ReconcilerOptions{PruneForeign: prune})
			r.SetDesired(lvs.Desired{Services: []lvs.Service{natLab(1, 1), other}})
			res := reconcile(t, r)
			if !prune && (len(res.Foreign) != 1 || res.Foreign[0] != foreign.Key) {
				t.Errorf("Foreign = %v, want [%v]", res.Foreign, foreign.Key)
			}
			// Removing a service from the config deletes it: we created it.
			r.SetDesired(lvs.Desired{Services: []lvs.Service{natLab(1, 1)}})
			reconcile(t, r)
			var keys []string
			for _, s := range r.Observed() {
				keys = append(keys, s.Key.String())
			}
			want := []string{"tcp 10.9.9.9:53", "tcp 172.0.0.30:80"}
			if prune {
				want = want[1:]
			}
			if diff := cmp.Diff(want, keys); diff != "" {
				t.Errorf("observed keys (-want +got):\n%s", diff)
			}
			got, _ := fake.Services()
			if diff := cmp.Diff(r.Observed(), got); diff != "" {
				t.Errorf("Observed() differs from the table (-observed +table):\n%s", diff)
			}
		})
	}
}

func TestReconcileFailureDoesNotStopOthers(t *testing.T) {
	fake := lvstest.NewFake()
	bad := netip.MustParseAddr("192.168.1.20")
	fake.FailWith(func(call string, _ lvs.ServiceKey, d lvs.DestKey) error {
		if call == lvstest.CallNewDestination && d.Addr == bad {
			return syscall.EINVAL
		}
		return nil
	})
	r := lvs.NewReconciler(fake, lvs.ReconcilerOptions{})
	ssh := lvs.Service{Key: key("172.0.0.30", 22), Scheduler: "rr", Destinations: []lvs.Destination{real("192.168.1.10", 22, 1)}}
	r.SetDesired(lvs.Desired{Services: []lvs.Service{natLab(1, 1), ssh}})
	res, err := r.Reconcile(context.Background())
	if err == nil || !strings.Contains(err.Error(), "check the route to 192.168.1.20") {
		t.Fatalf("err = %v, want the EINVAL explanation", err)
	}
	if len(res.Failed) != 1 || len(res.Applied) != 4 {
		t.Fatalf("applied %d failed %d, want 4 and 1: %v", len(res.Applied), len(res.Failed), res.Failed)
	}
	if !errors.Is(res.Failed[0], syscall.EINVAL) {
		t.Errorf("failure does not wrap EINVAL: %v", res.Failed[0])
	}
	if st := r.Stats(); st.Errors != 1 || st.Ops != 4 || st.LastError == "" {
		t.Errorf("stats = %+v", st)
	}
	// Once the route exists the next pass adds the missing one only.
	fake.FailWith(nil)
	fake.ResetCounts()
	reconcile(t, r)
	if c := fake.Counts(); c.Writes() != 1 || c.NewDestination != 1 {
		t.Errorf("retry counts = %+v, want one NewDestination", c)
	}
}

func TestReconcileBeforeDesiredOnlyReads(t *testing.T) {
	fake := lvstest.NewFake(natLab(1, 1))
	r := lvs.NewReconciler(fake, lvs.ReconcilerOptions{PruneForeign: true})
	reconcile(t, r)
	if c := fake.Counts(); c.Writes() != 0 {
		t.Errorf("writes before SetDesired: %+v", c)
	}
}

type recFilter struct {
	mu    sync.Mutex
	calls int
	marks []lvs.MarkRule
}

func (f *recFilter) Apply(_ context.Context, marks []lvs.MarkRule, _ []lvs.SNATRule) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.marks = marks
	return true, nil
}

func TestRunRepairsDriftAndCollapsesTriggers(t *testing.T) {
	fake := lvstest.NewFake()
	filter := &recFilter{}
	r := lvs.NewReconciler(fake, lvs.ReconcilerOptions{Interval: 20 * time.Millisecond, Filter: filter})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	want := natLab(2, 1)
	mark := lvs.MarkRule{Mark: 66, Addr: netip.MustParseAddr("192.168.0.100"), Proto: lvs.TCP, Ports: []uint16{80, 443}}
	r.SetDesired(lvs.Desired{Services: []lvs.Service{want}, Marks: []lvs.MarkRule{mark}})
	for range 10 {
		r.Trigger()
	}
	waitFor(t, "the table to be programmed", func() bool {
		got, _ := fake.Services()
		return len(got) == 1 && got[0].Equal(want)
	})
	fake.Flush() // ipvsadm -C behind our back
	waitFor(t, "the periodic pass to repair the flush", func() bool {
		got, _ := fake.Services()
		return len(got) == 1 && got[0].Equal(want)
	})
	filter.mu.Lock()
	defer filter.mu.Unlock()
	if filter.calls == 0 || len(filter.marks) != 1 {
		t.Errorf("filter calls %d marks %v", filter.calls, filter.marks)
	}
}

// waitFor polls cond until it holds, failing after 10 s (the VM is slow).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, 10*time.Second, what, cond)
}

func TestTriggersCollapse(t *testing.T) {
	fake := lvstest.NewFake()
	r := lvs.NewReconciler(fake, lvs.ReconcilerOptions{Interval: -1})
	r.SetDesired(lvs.Desired{Services: []lvs.Service{natLab(1, 1)}})
	for range 10 {
		r.Trigger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	waitFor(t, "the first pass", func() bool { return r.Stats().Runs >= 1 && fake.Counts().Writes() == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := r.Stats().Runs; got != 1 {
		t.Errorf("eleven triggers gave %d passes, want 1", got)
	}
}

func TestReconcileChangedReadsOnlyChangedServices(t *testing.T) {
	web := natLab(1, 1)
	ssh := lvs.Service{Key: key("172.0.0.30", 22), Scheduler: "rr", Destinations: []lvs.Destination{real("192.168.1.10", 22, 1)}}
	fake := lvstest.NewFake()
	r := lvs.NewReconciler(fake, lvs.ReconcilerOptions{})
	r.SetDesired(lvs.Desired{Services: []lvs.Service{web, ssh}})
	if res, err := r.ReconcileChanged(context.Background()); err != nil || !res.Full {
		t.Fatalf("first pass must be full: full=%v err=%v", res.Full, err)
	}
	web2 := natLab(5, 1)
	steps := []struct {
		name string
		set  []lvs.Service
		want lvstest.Counts
	}{
		{"nothing changed: no reads, no writes", []lvs.Service{web, ssh}, lvstest.Counts{}},
		{"weight change: one get, one write", []lvs.Service{web2, ssh}, lvstest.Counts{Gets: 1, UpdateDestination: 1}},
		{"service removed: one get, one delete", []lvs.Service{web2}, lvstest.Counts{Gets: 1, DelService: 1}},
		{"service back: one get, three writes", []lvs.Service{web2, ssh}, lvstest.Counts{Gets: 1, NewService: 1, NewDestination: 1}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			fake.ResetCounts()
			r.SetDesired(lvs.Desired{Services: st.set})
			res, err := r.ReconcileChanged(context.Background())
			if err != nil || res.Full {
				t.Fatalf("full=%v err=%v", res.Full, err)
			}
			if diff := cmp.Diff(st.want, fake.Counts()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			got, _ := fake.Services()
			if diff := cmp.Diff(got, r.Observed()); diff != "" {
				t.Errorf("Observed() differs from the table (-table +observed):\n%s", diff)
			}
		})
	}
	t.Run("a failed read falls back to a full pass", func(t *testing.T) {
		fake.FailWith(func(call string, _ lvs.ServiceKey, _ lvs.DestKey) error {
			if call == lvstest.CallService {
				return syscall.EIO
			}
			return nil
		})
		r.SetDesired(lvs.Desired{Services: []lvs.Service{natLab(7, 1), ssh}})
		if _, err := r.ReconcileChanged(context.Background()); err == nil {
			t.Fatal("no error from a failed read")
		}
		fake.FailWith(nil)
		res, err := r.ReconcileChanged(context.Background())
		if err != nil || !res.Full || len(res.Applied) != 1 {
			t.Errorf("after a failed read: full=%v applied=%v err=%v", res.Full, res.Applied, err)
		}
	})
}
