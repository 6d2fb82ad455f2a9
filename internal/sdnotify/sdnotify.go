package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Notifier sends state changes to the service manager. The zero value and a
// nil *Notifier send nothing.
type Notifier struct {
	addr *net.UnixAddr
}

// New returns a notifier for the socket path systemd gave in
// $NOTIFY_SOCKET ("@name" is an abstract socket); "" disables it.
func New(socket string) *Notifier {
	if socket == "" {
		return &Notifier{}
	}
	if strings.HasPrefix(socket, "@") {
		socket = "\x00" + socket[1:]
	}
	return &Notifier{addr: &net.UnixAddr{Name: socket, Net: "unixgram"}}
}

// FromEnv returns a notifier for $NOTIFY_SOCKET.
func FromEnv() *Notifier { return New(os.Getenv("NOTIFY_SOCKET")) }

// Enabled reports whether notifications go anywhere.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != nil }

// Send writes the assignments as one datagram, joined by newlines.
func (n *Notifier) Send(assignments ...string) error {
	if !n.Enabled() || len(assignments) == 0 {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sd_notify: connecting to %s: %w", n.addr.Name, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(strings.Join(assignments, "\n"))); err != nil {
		return fmt.Errorf("sd_notify: sending to %s: %w", n.addr.Name, err)
	}
	return nil
}

// Protocol assignments havsd uses.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// Reloading returns the assignments that open a reload: RELOADING=1 and the
// CLOCK_MONOTONIC time systemd (Type=notify-reload) requires with it.
func Reloading() []string {
	return []string{"RELOADING=1", "MONOTONIC_USEC=" + strconv.FormatInt(monotonicUsec(), 10)}
}

// Status returns a STATUS= assignment; newlines in s become spaces, since
// one line is what systemctl status shows.
func Status(s string) string {
	return "STATUS=" + strings.ReplaceAll(s, "\n", " ")
}

func monotonicUsec() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano() / 1e3
}

// WatchdogInterval returns the interval systemd expects WATCHDOG=1 within
// ($WATCHDOG_USEC), and false when the watchdog is off or meant for another
// process ($WATCHDOG_PID). Send at half the interval, as sd_watchdog_enabled(3) advises.
func WatchdogInterval() (time.Duration, bool) {
	return watchdogInterval(os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID"), os.Getpid())
}

func watchdogInterval(usec, pid string, self int) (time.Duration, bool) {
	if usec == "" {
		return 0, false
	}
	u, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || u <= 0 {
		return 0, false
	}
	if pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil || p != self {
			return 0, false
		}
	}
	return time.Duration(u) * time.Microsecond, true
}
