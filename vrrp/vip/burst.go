package vip

import (
	"context"
	"time"
)

// Burst says how a new master announces its VIPs: Count packets spaced by
// Interval (0: none), RepeatCount more after RepeatDelay, then one every
// Refresh.
type Burst struct {
	Count int
	// Sent is how many of the first Count the caller has already sent
	// (a new master's first announcement goes out at once): the rest
	// follow, Interval apart.
	Sent        int
	Interval    time.Duration
	RepeatDelay time.Duration
	RepeatCount int
	Refresh     time.Duration
}

// DefaultBurst is keepalived's default: 5 at once, 5 more after 5 s.
var DefaultBurst = Burst{Count: 5, RepeatDelay: 5 * time.Second, RepeatCount: 5}

// Sleeper waits for d or until ctx is done, reporting whether d elapsed.
type Sleeper func(ctx context.Context, d time.Duration) bool

// Run calls announce following b until ctx is done or the schedule ends
// (no refresh). announce errors are passed to onErr (may be nil).
func (b Burst) Run(ctx context.Context, sleep Sleeper, announce func() error, onErr func(error)) {
	send := func(n int, lead bool) bool {
		for i := 0; i < n; i++ {
			if (i > 0 || lead) && !sleep(ctx, b.Interval) {
				return false
			}
			if ctx.Err() != nil {
				return false
			}
			if err := announce(); err != nil && onErr != nil {
				onErr(err)
			}
		}
		return true
	}
	if !send(b.Count-b.Sent, b.Sent > 0) {
		return
	}
	if b.RepeatDelay > 0 && b.RepeatCount > 0 {
		if !sleep(ctx, b.RepeatDelay) || !send(b.RepeatCount, false) {
			return
		}
	}
	for b.Refresh > 0 && sleep(ctx, b.Refresh) {
		if !send(1, false) {
			return
		}
	}
}
