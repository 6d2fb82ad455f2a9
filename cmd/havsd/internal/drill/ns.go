package drill

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// Vantage runs functions on one OS thread that lives in a network namespace,
// so that the sockets they open belong to it. Sockets are usable from any
// goroutine once open. The zero namespace name means the caller's own.
type Vantage struct {
	name string
	reqs chan func()
	stop chan struct{}
}

// EnterNS starts a thread inside the named namespace ("" for no switch).
func EnterNS(name string) (*Vantage, error) {
	v := &Vantage{name: name, reqs: make(chan func()), stop: make(chan struct{})}
	if name == "" {
		return v, nil
	}
	ready := make(chan error, 1)
	go func() {
		// The thread never returns to the Go scheduler's pool: it dies with
		// this goroutine, still locked, when Close is called.
		runtime.LockOSThread()
		h, err := netns.GetFromName(name)
		if err != nil {
			ready <- fmt.Errorf("opening namespace %s: %w", name, err)
			return
		}
		err = netns.Set(h)
		h.Close()
		if err != nil {
			ready <- fmt.Errorf("entering namespace %s: %w", name, err)
			return
		}
		ready <- nil
		for {
			select {
			case f := <-v.reqs:
				f()
			case <-v.stop:
				return
			}
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return v, nil
}

// Name is the namespace name ("" for the caller's own).
func (v *Vantage) Name() string { return v.name }

// Do runs f inside the namespace and returns its error.
func (v *Vantage) Do(f func() error) error {
	if v == nil || v.name == "" {
		return f()
	}
	errc := make(chan error, 1)
	select {
	case v.reqs <- func() { errc <- f() }:
	case <-v.stop:
		return fmt.Errorf("namespace %s: vantage closed", v.name)
	}
	return <-errc
}

// Close ends the namespace thread.
func (v *Vantage) Close() {
	if v == nil || v.name == "" {
		return
	}
	select {
	case <-v.stop:
	default:
		close(v.stop)
	}
}
