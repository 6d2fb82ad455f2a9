package vrrp

import "time"

// SkewTime is Skew_Time for a router of the given priority: in version 2
// (RFC 3768 §6.1) (256-Priority)/256 seconds; in version 3 (RFC 5798 §6.1)
// ((256-Priority) × Master_Adver_Interval)/256.
func SkewTime(version int, priority uint8, masterAdverInterval time.Duration) time.Duration {
	if version == 2 {
		return time.Duration(256-int64(priority)) * time.Second / 256
	}
	return time.Duration(256-int64(priority)) * masterAdverInterval / 256
}

// MasterDownInterval is the time a backup waits without an advert before it
// declares the master down: 3 × Master_Adver_Interval + Skew_Time.
func MasterDownInterval(version int, priority uint8, masterAdverInterval time.Duration) time.Duration {
	return 3*masterAdverInterval + SkewTime(version, priority, masterAdverInterval)
}
