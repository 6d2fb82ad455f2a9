//go:build !linux

package vrrp

import (
	"errors"
	"time"
)

// evLoop is Linux only: elsewhere the loop waits on channels.
type evLoop struct{}

func newEvLoop() (*evLoop, error) { return nil, errors.New("no event loop on this system") }

func (e *evLoop) watch(fd int) error          { return errors.ErrUnsupported }
func (e *evLoop) unwatch()                    {}
func (e *evLoop) wake()                       {}
func (e *evLoop) arm(at, now time.Time) error { return nil }
func (e *evLoop) wait(block bool) (sock, kicked, timer bool, err error) {
	return false, false, false, errors.ErrUnsupported
}
func (e *evLoop) close() {}
