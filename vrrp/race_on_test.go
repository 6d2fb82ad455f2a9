//go:build race

package vrrp

// raceEnabled: the race detector makes sync.Pool drop items at random.
const raceEnabled = true
