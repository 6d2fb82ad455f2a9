package track

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/havsd/havsd/internal/clock"
	"golang.org/x/sys/unix"
)

// ReadValue reads a track_file: its first word as an integer. A file that
// does not exist holds 0, as in keepalived; one that is not a number is an
// error (the tracker then counts 0 and says why).
func ReadValue(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, nil
	}
	n, err := strconv.ParseInt(f[0], 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s holds %q, not an integer", path, f[0])
	}
	return int(n), nil
}

// fileResync re-reads a tracked file even without an inotify event (a
// directory created after start, an overflowed event queue).
const fileResync = 5 * time.Second

// runFile watches a track_file through inotify on its directory and emits
// its value whenever it changes.
func runFile(ctx context.Context, f File, clk clock.Clock, log *slog.Logger, emit func(State)) {
	st := State{Key: Key{KindFile, f.Name}}
	read := func() {
		v, err := ReadValue(f.Path)
		last := fmt.Sprintf("value %d", v)
		if err != nil {
			last = err.Error()
		}
		if st.Known && v == st.Value && last == st.Last {
			return
		}
		now := clk.Now()
		if !st.Known || v != st.Value {
			st.Since = now
			log.Info("track_file value", "tracker", f.Name, "path", f.Path, "value", v)
		}
		st.Known, st.OK, st.Value, st.Last, st.At = true, err == nil, v, last, now
		emit(st)
	}
	events := make(chan struct{}, 1)
	// The watch is in place before the first read, so no change is lost.
	if in, err := watchDir(filepath.Dir(f.Path)); err != nil {
		log.Warn("track_file: cannot watch the directory, re-reading every few seconds", "path", f.Path, "err", err)
	} else {
		go func() {
			<-ctx.Done()
			in.Close()
		}()
		go readEvents(in, filepath.Base(f.Path), events)
	}
	tick := clk.NewTimer(fileResync)
	defer tick.Stop()
	for {
		read()
		select {
		case <-ctx.Done():
			return
		case <-events:
		case <-tick.C():
		}
		tick.Reset(fileResync)
	}
}

// watchDir opens an inotify watch on dir.
func watchDir(dir string) (*os.File, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	in := os.NewFile(uintptr(fd), "inotify")
	const mask = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_CREATE |
		unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		in.Close()
		return nil, fmt.Errorf("watching %s: %w", dir, err)
	}
	return in, nil
}

// readEvents signals events for changes to name until in is closed.
func readEvents(in *os.File, name string, events chan<- struct{}) {
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := in.Read(buf)
		if err != nil {
			return
		}
		hit := false
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			// struct inotify_event: wd, mask, cookie, len, name[len].
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			ln := int(binary.NativeEndian.Uint32(buf[off+12:]))
			end := min(off+unix.SizeofInotifyEvent+ln, n)
			nb := buf[off+unix.SizeofInotifyEvent : end]
			if ln == 0 || strings.TrimRight(string(nb), "\x00") == name || mask&unix.IN_Q_OVERFLOW != 0 {
				hit = true
			}
			off = end
		}
		if hit {
			select {
			case events <- struct{}{}:
			default:
			}
		}
	}
}
