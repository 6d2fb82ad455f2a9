package lvstest

import (
	"slices"
	"sync"
	"syscall"

	"github.com/havsd/havsd/lvs"
)

// Fake is an in-memory IPVS table. It behaves like the kernel for the errors
// the reconciler meets (EEXIST on a duplicate, ESRCH on a missing service or
// destination), sorts what it returns, counts calls by kind, and fails calls
// on demand. It is safe for concurrent use.
type Fake struct {
	mu   sync.Mutex
	svcs map[lvs.ServiceKey]*lvs.Service
	c    Counts
	// fail decides an injected error for a call; nil means none.
	fail func(call string, k lvs.ServiceKey, d lvs.DestKey) error
	// closed is set by Close.
	closed bool
}

var _ lvs.Table = (*Fake)(nil)

// Calls named by FailWith, one per Table method.
const (
	CallServices          = "Services"
	CallService           = "Service"
	CallNewService        = "NewService"
	CallUpdateService     = "UpdateService"
	CallDelService        = "DelService"
	CallNewDestination    = "NewDestination"
	CallUpdateDestination = "UpdateDestination"
	CallDelDestination    = "DelDestination"
)

// NewFake returns a table holding a copy of services.
func NewFake(services ...lvs.Service) *Fake {
	f := &Fake{svcs: make(map[lvs.ServiceKey]*lvs.Service)}
	for _, s := range services {
		c := s.Canonical()
		c.Destinations = slices.Clone(c.Destinations) // the fake modifies its own
		f.svcs[c.Key] = &c
	}
	return f
}

// FailWith installs fn to decide, before each call, whether it fails with an
// error instead of taking effect; d is zero for service calls. Pass nil to
// stop failing.
func (f *Fake) FailWith(fn func(call string, k lvs.ServiceKey, d lvs.DestKey) error) {
	f.mu.Lock()
	f.fail = fn
	f.mu.Unlock()
}

// Counts returns the calls counted so far, failed ones included.
func (f *Fake) Counts() Counts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.c
}

// ResetCounts sets every count back to zero.
func (f *Fake) ResetCounts() {
	f.mu.Lock()
	f.c = Counts{}
	f.mu.Unlock()
}

// Closed reports whether Close was called.
func (f *Fake) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// Flush removes every service, as ipvsadm -C does behind the reconciler's
// back; it is not counted.
func (f *Fake) Flush() {
	f.mu.Lock()
	clear(f.svcs)
	f.mu.Unlock()
}

func (f *Fake) injected(call string, k lvs.ServiceKey, d lvs.DestKey) error {
	if f.fail == nil {
		return nil
	}
	return f.fail(call, k, d)
}

// Services returns a sorted deep copy of the table.
func (f *Fake) Services() ([]lvs.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.c.Dumps++
	if err := f.injected(CallServices, lvs.ServiceKey{}, lvs.DestKey{}); err != nil {
		return nil, err
	}
	out := make([]lvs.Service, 0, len(f.svcs))
	for _, s := range f.svcs {
		c := *s
		c.Destinations = slices.Clone(s.Destinations)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b lvs.Service) int { return a.Key.Compare(b.Key) })
	return out, nil
}

// Service returns a copy of one service.
func (f *Fake) Service(k lvs.ServiceKey) (lvs.Service, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.c.Gets++
	k = lvs.Service{Key: k}.Canonical().Key
	if err := f.injected(CallService, k, lvs.DestKey{}); err != nil {
		return lvs.Service{}, false, err
	}
	s, ok := f.svcs[k]
	if !ok {
		return lvs.Service{}, false, nil
	}
	c := *s
	c.Destinations = slices.Clone(s.Destinations)
	return c, true, nil
}

// NewService adds a service without destinations; EEXIST if present.
func (f *Fake) NewService(s lvs.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.c.NewService++
	c := s.Canonical()
	if err := f.injected(CallNewService, c.Key, lvs.DestKey{}); err != nil {
		return err
	}
	if _, ok := f.svcs[c.Key]; ok {
		return syscall.EEXIST
	}
	c.Destinations, c.Stats = nil, lvs.Stats{}
	f.svcs[c.Key] = &c
	return nil
}

// UpdateService replaces a service's attributes; ESRCH if absent.
func (f *Fake) UpdateService(s lvs.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.c.UpdateService++
	c := s.Canonical()
	if err := f.injected(CallUpdateService, c.Key, lvs.DestKey{}); err != nil {
		return err
	}
	old, ok := f.svcs[c.Key]
	if !ok {
		return syscall.ESRCH
	}
	c.Destinations, c.Stats = old.Destinations, old.Stats
	f.svcs[c.Key] = &c
	return nil
}

// DelService removes a service; ESRCH if absent.
func (f *Fake) DelService(k lvs.ServiceKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.c.DelService++
	k = lvs.Service{Key: k}.Canonical().Key
	if err := f.injected(CallDelService, k, lvs.DestKey{}); err != nil {
		return err
	}
	if _, ok := f.svcs[k]; !ok {
		return syscall.ESRCH
	}
	delete(f.svcs, k)
	return nil
}

// NewDestination adds a real server; ESRCH without the service, EEXIST if
// present.
func (f *Fake) NewDestination(k lvs.ServiceKey, d lvs.Destination) error {
	return f.destCall(CallNewDestination, k, d, func(s *lvs.Service, i int) error {
		if i >= 0 {
			return syscall.EEXIST
		}
		d.ActiveConns, d.InactiveConns, d.Stats = 0, 0, lvs.Stats{}
		s.Destinations = append(s.Destinations, d)
		slices.SortFunc(s.Destinations, func(a, b lvs.Destination) int { return a.Key().Compare(b.Key()) })
		return nil
	})
}

// UpdateDestination changes a real server's settings; ESRCH if absent.
func (f *Fake) UpdateDestination(k lvs.ServiceKey, d lvs.Destination) error {
	return f.destCall(CallUpdateDestination, k, d, func(s *lvs.Service, i int) error {
		if i < 0 {
			return syscall.ESRCH
		}
		old := s.Destinations[i]
		d.ActiveConns, d.InactiveConns, d.Stats = old.ActiveConns, old.InactiveConns, old.Stats
		s.Destinations[i] = d
		return nil
	})
}

// DelDestination removes a real server; ESRCH if absent.
func (f *Fake) DelDestination(k lvs.ServiceKey, dk lvs.DestKey) error {
	return f.destCall(CallDelDestination, k, lvs.Destination{Addr: dk.Addr, Port: dk.Port}, func(s *lvs.Service, i int) error {
		if i < 0 {
			return syscall.ESRCH
		}
		s.Destinations = slices.Delete(s.Destinations, i, i+1)
		return nil
	})
}

func (f *Fake) destCall(call string, k lvs.ServiceKey, d lvs.Destination, fn func(*lvs.Service, int) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch call {
	case CallNewDestination:
		f.c.NewDestination++
	case CallUpdateDestination:
		f.c.UpdateDestination++
	case CallDelDestination:
		f.c.DelDestination++
	}
	k = lvs.Service{Key: k}.Canonical().Key
	d.Addr = d.Addr.Unmap()
	if err := f.injected(call, k, d.Key()); err != nil {
		return err
	}
	s, ok := f.svcs[k]
	if !ok {
		return syscall.ESRCH
	}
	i := slices.IndexFunc(s.Destinations, func(x lvs.Destination) bool { return x.Key() == d.Key() })
	return fn(s, i)
}

// Close marks the table closed.
func (f *Fake) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}
