// Package procstat reads /proc/PID/stat: a process's state, parent, CPU
// time and start time. It is havsd's one parser of that file.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ticksPerSecond is USER_HZ, the unit of the file's times: 100 on every
// Linux architecture havsd runs on.
const ticksPerSecond = 100

// Stat is what havsd uses of one /proc/PID/stat.
type Stat struct {
	PID   int
	Comm  string // the command name, without the parentheses
	State byte   // 'R', 'S', 'D', 'Z', 'T', ...
	PPID  int
	// UTime and STime are user and system CPU time in clock ticks.
	UTime, STime uint64
	// StartTime is when the process started, in clock ticks after boot:
	// with the PID it names one process even after the PID is reused.
	StartTime uint64
	// RSSPages is the resident set size in pages (field 24); 0 when the
	// line is too short to have it.
	RSSPages uint64
}

// Read reads and parses /proc/PID/stat.
func Read(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	st, err := Parse(b)
	if err != nil {
		return Stat{}, fmt.Errorf("parsing /proc/%d/stat: %w", pid, err)
	}
	return st, nil
}

// Parse parses the contents of a /proc/PID/stat file. The command name may
// hold spaces and parentheses: it ends at the last ')'.
func Parse(b []byte) (Stat, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return Stat{}, fmt.Errorf("no (command) field")
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return Stat{}, fmt.Errorf("pid: %w", err)
	}
	// Fields after the command, numbered from 3 (state) as in proc(5).
	f := bytes.Fields(b[end+1:])
	field := func(n int) []byte { return f[n-3] }
	if len(f) < 22-2 {
		return Stat{}, fmt.Errorf("%d fields, want at least 22", len(f)+2)
	}
	st := Stat{PID: pid, Comm: string(b[open+1 : end])}
	if len(field(3)) != 1 {
		return Stat{}, fmt.Errorf("state %q", field(3))
	}
	st.State = field(3)[0]
	nums := []struct {
		n   int
		dst *uint64
	}{{14, &st.UTime}, {15, &st.STime}, {22, &st.StartTime}}
	for _, x := range nums {
		if *x.dst, err = strconv.ParseUint(string(field(x.n)), 10, 64); err != nil {
			return Stat{}, fmt.Errorf("field %d: %w", x.n, err)
		}
	}
	if len(f) >= 24-2 {
		if st.RSSPages, err = strconv.ParseUint(string(field(24)), 10, 64); err != nil {
			return Stat{}, fmt.Errorf("field 24: %w", err)
		}
	}
	if st.PPID, err = strconv.Atoi(string(field(4))); err != nil {
		return Stat{}, fmt.Errorf("field 4: %w", err)
	}
	return st, nil
}

// CPU returns the user plus system CPU time the process has used.
func (s Stat) CPU() time.Duration {
	return time.Duration(s.UTime+s.STime) * time.Second / ticksPerSecond
}

// RSS returns the resident set size in bytes.
func (s Stat) RSS() uint64 { return s.RSSPages * uint64(os.Getpagesize()) }

// Zombie reports whether the process has exited and awaits its parent.
func (s Stat) Zombie() bool { return s.State == 'Z' }

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	st, err := Read(pid)
	return err == nil && !st.Zombie()
}

// Running reports whether pid is still the live process that started at
// start (a StartTime): false once it exited or its PID names another.
func Running(pid int, start uint64) bool {
	st, err := Read(pid)
	return err == nil && !st.Zombie() && st.StartTime == start
}
