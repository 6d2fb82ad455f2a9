package vrnet

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/havsd/havsd/internal/procstat"
	"github.com/havsd/havsd/vrrp"
)

// HelperEnv carries the JSON HelperSpec to a director child process.
const HelperEnv = "HVVR_HELPER_SPEC"

// HelperSpec tells a child process which instance to run.
type HelperSpec struct {
	Node   string      // answers TCP connections on Listen with this name
	Listen string      // e.g. ":7000"; empty for none
	Config vrrp.Config // the instance
	Debug  bool        // log at debug level
	// Extra instances run beside Config; with Group set, all of them form
	// a sync group of that name.
	Extra []vrrp.Config
	Group string
}

type line struct {
	Event  *vrrp.Event  `json:",omitempty"`
	Status *vrrp.Status `json:",omitempty"`
}

// HelperMain runs a director in this process (the child side): it runs the
// instance until SIGTERM/SIGINT, prints every transition and, on SIGUSR1,
// the status as JSON lines on stdout; SIGUSR2 asks for a handover. It exits
// the process.
func HelperMain() {
	var spec HelperSpec
	if err := json.Unmarshal([]byte(os.Getenv(HelperEnv)), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "bad helper spec:", err)
		os.Exit(2)
	}
	level := slog.LevelInfo
	if spec.Debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfgs := append([]vrrp.Config{spec.Config}, spec.Extra...)
	var insts []*vrrp.Instance
	for _, c := range cfgs {
		var sib []uint8
		for _, o := range cfgs {
			if o.VRID != c.VRID {
				sib = append(sib, o.VRID)
			}
		}
		in, err := vrrp.NewInstance(c, vrrp.Options{Logger: log, SiblingVRIDs: sib})
		if err != nil {
			log.Error("new instance", "err", err)
			os.Exit(2)
		}
		insts = append(insts, in)
	}
	inst := insts[0]
	if spec.Group != "" {
		if _, err := vrrp.NewGroup(vrrp.SyncGroup{Name: spec.Group}, insts, log); err != nil {
			log.Error("new group", "err", err)
			os.Exit(2)
		}
	}
	if spec.Listen != "" {
		ln, err := net.Listen("tcp", spec.Listen)
		if err != nil {
			log.Error("listen", "err", err)
			os.Exit(2)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				fmt.Fprintln(c, spec.Node)
				c.Close()
			}
		}()
	}
	var mu sync.Mutex
	out := json.NewEncoder(os.Stdout)
	emit := func(l line) {
		mu.Lock()
		defer mu.Unlock()
		_ = out.Encode(l)
	}
	for _, in := range insts {
		go func() {
			for e := range in.Events() {
				emit(line{Event: &e})
			}
		}()
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for s := range sigs {
			if s == syscall.SIGUSR1 {
				st := inst.Status()
				emit(line{Status: &st})
			} else {
				go func() { _ = inst.Handover(context.Background()) }()
			}
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errs := make(chan error, len(insts))
	for _, in := range insts {
		go func() { errs <- in.Run(ctx) }()
	}
	code := 0
	for range insts {
		if err := <-errs; err != nil {
			log.Error("run", "err", err)
			code = 1
		}
	}
	if code != 0 {
		os.Exit(code)
	}
	time.Sleep(50 * time.Millisecond) // let the last event line out
	os.Exit(0)
}

// Director is a child process running one instance inside a node.
type Director struct {
	t      *testing.T
	Name   string
	Node   *Node
	cmd    *exec.Cmd
	Log    string // its stderr
	mu     sync.Mutex
	state  vrrp.State
	states map[string]vrrp.State // per instance
	events []vrrp.Event
	status chan vrrp.Status
	done   chan struct{}
}

// StartDirector re-executes the test binary inside node, running the test
// named helperTest (which calls HelperMain).
func StartDirector(t *testing.T, node *Node, helperTest string, spec HelperSpec) *Director {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	d := &Director{t: t, Name: spec.Config.Name, Node: node, state: vrrp.StateInit, states: map[string]vrrp.State{},
		status: make(chan vrrp.Status, 1), done: make(chan struct{})}
	d.Log = filepath.Join(t.TempDir(), spec.Config.Name+".log")
	logf, err := os.Create(d.Log)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = node.Exec(context.Background(), exe, "-test.run=^"+helperTest+"$", "-test.count=1")
	d.cmd.Env = append(os.Environ(), HelperEnv+"="+string(js))
	d.cmd.Stderr = logf
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go d.read(stdout)
	go func() {
		_ = d.cmd.Wait()
		logf.Close()
		close(d.done)
	}()
	t.Cleanup(func() {
		d.Kill()
		if t.Failed() {
			b, _ := os.ReadFile(d.Log)
			t.Logf("log of %s:\n%s", d.Name, tail(string(b), 40))
		}
	})
	return d
}

func tail(s string, n int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

func (d *Director) read(r interface{ Read([]byte) (int, error) }) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var l line
		if !strings.HasPrefix(sc.Text(), "{") || json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		d.mu.Lock()
		if l.Event != nil {
			d.states[l.Event.Instance] = l.Event.To
			if l.Event.Instance == d.Name {
				d.state = l.Event.To
			}
			d.events = append(d.events, *l.Event)
		}
		d.mu.Unlock()
		if l.Status != nil {
			select {
			case d.status <- *l.Status:
			default:
			}
		}
	}
}

// State is the last state the director reported.
func (d *Director) State() vrrp.State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// StateOf is the last state reported by the named instance.
func (d *Director) StateOf(name string) vrrp.State {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.states[name]; ok {
		return s
	}
	return vrrp.StateInit
}

// WaitStateOf waits until the named instance reports state s.
func (d *Director) WaitStateOf(name string, s vrrp.State, timeout time.Duration) time.Duration {
	d.t.Helper()
	return WaitFor(d.t, d.Name+"/"+name+" "+s.String(), timeout, func() bool { return d.StateOf(name) == s })
}

// Events returns the transitions reported so far.
func (d *Director) Events() []vrrp.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]vrrp.Event(nil), d.events...)
}

// WaitState waits until the director reports state s.
func (d *Director) WaitState(s vrrp.State, timeout time.Duration) time.Duration {
	d.t.Helper()
	return WaitFor(d.t, d.Name+" "+s.String(), timeout, func() bool { return d.State() == s })
}

// Status asks the child for its status (SIGUSR1).
func (d *Director) Status() vrrp.Status {
	d.t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGUSR1)
	select {
	case s := <-d.status:
		return s
	case <-time.After(5 * time.Second):
		d.t.Fatalf("%s: no status", d.Name)
	}
	return vrrp.Status{}
}

// Signal sends sig to the child.
func (d *Director) Signal(sig os.Signal) { _ = d.cmd.Process.Signal(sig) }

// Kill SIGKILLs the child and waits for it.
func (d *Director) Kill() {
	_ = d.cmd.Process.Kill()
	<-d.done
}

// Exited reports whether the child has exited.
func (d *Director) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Wait waits for the child to exit and returns its exit code.
func (d *Director) Wait(timeout time.Duration) int {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(timeout):
		d.t.Fatalf("%s did not exit within %v", d.Name, timeout)
	}
	return d.cmd.ProcessState.ExitCode()
}

// CPUTime is the child's user+system CPU time so far.
func (d *Director) CPUTime() time.Duration {
	st, _ := procstat.Read(d.cmd.Process.Pid)
	return st.CPU()
}

// RSS is the child's resident memory now.
func (d *Director) RSS() uint64 {
	st, _ := procstat.Read(d.cmd.Process.Pid)
	return st.RSS()
}

// Pid is the child's process id.
func (d *Director) Pid() int { return d.cmd.Process.Pid }
