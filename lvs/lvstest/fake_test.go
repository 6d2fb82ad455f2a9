package lvstest

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"github.com/havsd/havsd/lvs"
)

func TestFakeBehavesLikeTheKernel(t *testing.T) {
	k := func(a string) lvs.ServiceKey {
		return lvs.ServiceKey{Family: lvs.IPv4, Proto: lvs.TCP, Addr: netip.MustParseAddr(a), Port: 80}
	}
	d := lvs.Destination{Addr: netip.MustParseAddr("10.0.0.2"), Port: 80, Weight: 1, Forward: lvs.Masq}
	f := NewFake()
	steps := []struct {
		name string
		call func() error
		want error
	}{
		{"add service", func() error { return f.NewService(lvs.Service{Key: k("10.0.0.9")}) }, nil},
		{"add it again", func() error { return f.NewService(lvs.Service{Key: k("10.0.0.9")}) }, syscall.EEXIST},
		{"add another", func() error { return f.NewService(lvs.Service{Key: k("10.0.0.1")}) }, nil},
		{"destination of a missing service", func() error { return f.NewDestination(k("10.0.0.5"), d) }, syscall.ESRCH},
		{"add destination", func() error { return f.NewDestination(k("10.0.0.9"), d) }, nil},
		{"add it again", func() error { return f.NewDestination(k("10.0.0.9"), d) }, syscall.EEXIST},
		{"update missing destination", func() error { return f.UpdateDestination(k("10.0.0.1"), d) }, syscall.ESRCH},
		{"delete missing service", func() error { return f.DelService(k("10.0.0.5")) }, syscall.ESRCH},
	}
	for _, st := range steps {
		if err := st.call(); !errors.Is(err, st.want) {
			t.Errorf("%s: err = %v, want %v", st.name, err, st.want)
		}
	}
	got, _ := f.Services()
	if len(got) != 2 || got[0].Key != k("10.0.0.1") || len(got[1].Destinations) != 1 {
		t.Errorf("Services() = %+v, want two services sorted, the second with one destination", got)
	}
	if c := f.Counts(); c.Writes() != 8 || c.NewService != 3 || c.Dumps != 1 {
		t.Errorf("counts %+v", c)
	}
	f.FailWith(func(call string, _ lvs.ServiceKey, _ lvs.DestKey) error {
		if call == CallUpdateDestination {
			return syscall.EPERM
		}
		return nil
	})
	d.Weight = 5
	if err := f.UpdateDestination(k("10.0.0.9"), d); !errors.Is(err, syscall.EPERM) {
		t.Errorf("injected error: %v", err)
	}
	if s, ok, _ := f.Service(k("10.0.0.9")); !ok || s.Destinations[0].Weight != 1 {
		t.Errorf("a failed update changed the table: %+v", s)
	}
}
