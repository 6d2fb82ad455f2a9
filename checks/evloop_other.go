//go:build !linux

package checks

import (
	"errors"
	"time"
)

// The epoll loop is Linux's; elsewhere every check runs on a goroutine.

type evLoop struct{}

type evJob struct{}

type evConn struct {
	p     *probe
	start time.Time
}

func evJobOf(Checker) (evJob, bool) { return evJob{}, false }

func newEvLoop(func(*evConn, error, bool)) (*evLoop, error) {
	return nil, errors.New("no epoll loop on this platform")
}

func (*evLoop) submit(*probe, evJob) {}
func (*evLoop) close()               {}
func (*evLoop) run()                 {}
