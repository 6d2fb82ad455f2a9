package vip

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBurstSchedule(t *testing.T) {
	tests := []struct {
		name  string
		b     Burst
		limit time.Duration // the fake sleeper cancels once the clock passes it
		want  []time.Duration
	}{
		{"keepalived default", DefaultBurst, time.Minute,
			[]time.Duration{0, 0, 0, 0, 0, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"spaced, no repeat", Burst{Count: 3, Interval: 100 * time.Millisecond}, time.Minute,
			[]time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}},
		{"refresh", Burst{Count: 1, Refresh: 10 * time.Second}, 35 * time.Second,
			[]time.Duration{0, 10 * time.Second, 20 * time.Second, 30 * time.Second}},
		{"zero count sends none", Burst{}, time.Minute, nil},
		{"zero count, repeat only", Burst{RepeatDelay: time.Second, RepeatCount: 2}, time.Minute, []time.Duration{time.Second, time.Second}},
		{"first already sent", Burst{Count: 3, Sent: 1, Interval: 100 * time.Millisecond}, time.Minute,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{"only one, already sent", Burst{Count: 1, Sent: 1, Interval: time.Second}, time.Minute, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var now time.Duration
			var got []time.Duration
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sleep := func(ctx context.Context, d time.Duration) bool {
				now += d
				if now > tc.limit {
					cancel()
					return false
				}
				return true
			}
			tc.b.Run(ctx, sleep, func() error { got = append(got, now); return nil }, nil)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("announce times (-want +got):\n%s", diff)
			}
		})
	}
}
