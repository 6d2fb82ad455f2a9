package procstat

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/havsd/havsd/test/poll"
)

func TestParse(t *testing.T) {
	tail := " 1 1 1 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000 100"
	tests := []struct {
		name, in string
		want     Stat
		err      bool
	}{
		{"plain", "42 (havsd) S" + tail, Stat{PID: 42, Comm: "havsd", State: 'S', PPID: 1, UTime: 250, STime: 50, StartTime: 12345, RSSPages: 100}, false},
		{"name with spaces and parens", "7 (a) b (c) Z" + tail, Stat{PID: 7, Comm: "a) b (c", State: 'Z', PPID: 1, UTime: 250, STime: 50, StartTime: 12345, RSSPages: 100}, false},
		{"truncated", "42 (havsd) S 1 1", Stat{}, true},
		{"no command", "42 havsd S" + tail, Stat{}, true},
		{"bad number", "42 (havsd) S 1 1 1 0 -1 4194560 100 0 0 0 x 50 0 0 20 0 1 0 12345", Stat{}, true},
		{"empty", "", Stat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("Parse = %+v, %v; want %+v, error %v", got, err, tt.want, tt.err)
			}
		})
	}
	if got := (Stat{UTime: 250, STime: 50}).CPU(); got != 3*time.Second {
		t.Errorf("CPU = %v, want 3s", got)
	}
}

func TestReadSelfAndChild(t *testing.T) {
	self, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self.PID != os.Getpid() || self.PPID != os.Getppid() || self.StartTime == 0 || self.RSS() == 0 {
		t.Errorf("Read(self) = %+v", self)
	}
	if !Running(self.PID, self.StartTime) || Running(self.PID, self.StartTime+1) {
		t.Error("Running does not tell this process from a reused PID")
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	if !Alive(cmd.Process.Pid) {
		t.Error("a running child is not alive")
	}
	_ = cmd.Process.Kill()
	// Not yet waited for, the child is a zombie: not alive.
	poll.Until(t, 5*time.Second, "the killed child not alive", func() bool { return !Alive(cmd.Process.Pid) })
	_ = cmd.Wait()
}
