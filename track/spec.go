package track

import (
	"fmt"
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
	// InitFail starts the script failed: it passes after Rise successes
	// (keepalived's init_fail). Otherwise it starts passing.
	InitFail bool
}

// File is a track_file: the integer in Path (0 when absent or not a number).
type File struct {
	Name string
	Path string
}

// Process is a track_process: processes whose comm (or, with Args, whose
// command line joined by spaces) equals Match, counted against Quorum.
type Process struct {
	Name  string
	Match string
	Args  bool
	// ParamMatch relaxes the comparison of the command line (with Args),
	// as keepalived's param_match.
	ParamMatch ParamMatch
	Quorum     int
	QuorumMax  int // 0: no upper bound
	Delay      time.Duration
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
		a.Timeout == b.Timeout && a.Rise == b.Rise && a.Fall == b.Fall && a.User == b.User &&
		a.InitFail == b.InitFail
}

// ParamMatch says how a track_process's command line is compared.
type ParamMatch uint8

// Command line comparisons (keepalived's param_match).
const (
	ParamExact   ParamMatch = iota // the whole command line (the default)
	ParamPartial                   // its first words: further arguments may follow
	ParamInitial                   // its beginning: the last word may be longer, more may follow
)

// String returns the configuration spelling ("exact", "partial", "initial").
func (m ParamMatch) String() string {
	switch m {
	case ParamExact:
		return "exact"
	case ParamPartial:
		return "partial"
	case ParamInitial:
		return "initial"
	}
	return fmt.Sprintf("ParamMatch(%d)", uint8(m))
}
