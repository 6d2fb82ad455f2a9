package conf

import (
	"errors"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/havsd/havsd/track"
	"github.com/havsd/havsd/vrrp"
)

// scriptUser is the user scripts run as: the configured script_user, else
// track.DefaultScriptUser if it exists, else "" (the daemon's own user).
func scriptUser(configured string) string {
	if configured != "" {
		return configured
	}
	if _, err := track.LookupUser(track.DefaultScriptUser); err == nil {
		return track.DefaultScriptUser
	}
	return ""
}

// notifyHooks checks the quorum_up/quorum_down commands of each service and
// the notify_up/notify_down commands of each real server, as vrrp_script
// commands are checked, and resolves their programs to absolute paths.
func (v *validator) notifyHooks(f *rawFile) {
	for _, s := range f.services {
		s.quorumUp = v.command(s.b, "quorum_up", s.quorumUp)
		s.quorumDn = v.command(s.b, "quorum_down", s.quorumDn)
		for _, r := range s.reals {
			r.notifyUp = v.command(r.b, "notify_up", r.notifyUp)
			r.notifyDown = v.command(r.b, "notify_down", r.notifyDown)
		}
	}
}

// notifyCommands checks the commands of a vrrp_instance's or sync group's
// notify block as the other commands are checked (keepalived checks its
// notify scripts with enable_script_security too), and resolves their
// programs to absolute paths. Empty commands are the caller's to report.
func (v *validator) notifyCommands(b *block, n *vrrp.Notify) {
	for _, c := range []struct {
		name string
		argv *[]string
	}{{"master", &n.Master}, {"backup", &n.Backup}, {"fault", &n.Fault}, {"stop", &n.Stop}, {"generic", &n.Generic}} {
		if len(*c.argv) > 0 && (*c.argv)[0] != "" {
			*c.argv = v.command(b, c.name, *c.argv)
		}
	}
}

// command checks an argv attribute that runs a program: not empty, the
// program found (in $PATH when not absolute) and modifiable by no user but
// root. It returns argv with the program's absolute path.
func (v *validator) command(b *block, name string, argv []string) []string {
	if !b.has(name) {
		return argv
	}
	if len(argv) == 0 || argv[0] == "" {
		v.errorf(b.at(name), "Empty command", `%s is an argv list starting with the program, e.g. ["/usr/local/bin/notify", "%s"]; it never runs a shell.`, name, name)
		return argv
	}
	path, err := exec.LookPath(argv[0])
	if err == nil && !filepath.IsAbs(path) {
		path, err = filepath.Abs(path)
	}
	if err != nil {
		v.errorf(elemAt(b, name, 0), "Program not found", "%s: %v.", argv[0], errors.Unwrap(err))
		return argv
	}
	if err := track.CheckScriptPath(path); err != nil {
		v.errorf(elemAt(b, name, 0), "Insecure script", "havsd runs only programs that no user but root can modify: %v.", err)
	}
	out := slices.Clone(argv)
	out[0] = path
	return out
}
