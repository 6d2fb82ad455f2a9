package track

import (
	"slices"
	"time"
)

// Script is a vrrp_script: Argv runs every Interval, bounded by Timeout;
// exit status 0 passes, anything else (or the timeout) fails.
type Script struct {
	Name       string
	Argv       []string // Argv[0] is an absolute path
	Interval   time.Duration
	Timeout    time.Duration
	Rise, Fall int
	// User runs the script; empty runs it as the daemon's own user.
	User string
}

// File is a track_file: the integer in Path (0 when absent or not a number).
type File struct {
	Name string
	Path string
}

// Process is a track_process: processes whose comm (or, with Args, whose
// command line joined by spaces) equals Match, counted against Quorum.
type Process struct {
	Name      string
	Match     string
	Args      bool
	Quorum    int
	QuorumMax int // 0: no upper bound
	Delay     time.Duration
}

// Spec is every tracker of a configuration.
type Spec struct {
	Scripts   []Script
	Files     []File
	Processes []Process
}

// Keys lists the trackers of s.
func (s Spec) Keys() []Key {
	var ks []Key
	for _, x := range s.Scripts {
		ks = append(ks, Key{KindScript, x.Name})
	}
	for _, x := range s.Files {
		ks = append(ks, Key{KindFile, x.Name})
	}
	for _, x := range s.Processes {
		ks = append(ks, Key{KindProcess, x.Name})
	}
	return ks
}

// Equal reports whether two scripts are the same tracker.
func (a Script) Equal(b Script) bool {
	return a.Name == b.Name && slices.Equal(a.Argv, b.Argv) && a.Interval == b.Interval &&
		a.Timeout == b.Timeout && a.Rise == b.Rise && a.Fall == b.Fall && a.User == b.User
}
