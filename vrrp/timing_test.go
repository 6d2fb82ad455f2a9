package vrrp

import (
	"testing"
	"time"
)

func TestTiming(t *testing.T) {
	tests := []struct {
		name      string
		version   int
		prio      uint8
		interval  time.Duration
		skew, mdi time.Duration
	}{
		// RFC 3768 figure: priority 100, 1 s adverts → Skew 0.609375 s, down 3.609375 s.
		{"v2 rfc figure", 2, 100, time.Second, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{"v2 owner", 2, 255, time.Second, time.Second / 256, 3*time.Second + time.Second/256},
		{"v2 interval ignored by skew", 2, 100, 2 * time.Second, 609375 * time.Microsecond, 6609375 * time.Microsecond},
		{"v3 1s", 3, 100, time.Second, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{"v3 100ms", 3, 100, 100 * time.Millisecond, 60937500 * time.Nanosecond, 360937500 * time.Nanosecond},
		{"v3 10ms prio 200", 3, 200, 10 * time.Millisecond, 2187500 * time.Nanosecond, 32187500 * time.Nanosecond},
		{"v3 zero", 3, 0, time.Second, time.Second, 4 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SkewTime(tc.version, tc.prio, tc.interval); got != tc.skew {
				t.Errorf("SkewTime = %v, want %v", got, tc.skew)
			}
			if got := MasterDownInterval(tc.version, tc.prio, tc.interval); got != tc.mdi {
				t.Errorf("MasterDownInterval = %v, want %v", got, tc.mdi)
			}
		})
	}
}
