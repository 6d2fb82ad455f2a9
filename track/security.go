package track

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// DefaultScriptUser is the user scripts run as when the configuration names
// none and this user exists (keepalived's keepalived_script, renamed).
const DefaultScriptUser = "havsd_script"

// CheckScriptPath refuses a script that a user other than root could
// replace or modify, as keepalived's enable_script_security does: the file
// (after resolving symbolic links) and every directory above it must be
// owned by root and not writable by others, or by a group other than
// root's. A world-writable directory with the sticky bit (like /tmp) is
// accepted when the entry below it is root's, since only its owner can
// replace it.
func CheckScriptPath(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s is not an absolute path", path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory", real)
	}
	if fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", real)
	}
	// Walk up from the file: each entry must be root's, and each writable
	// by others only if it is a sticky directory (the entry below it,
	// already checked, is root's and so only root can replace it).
	for p := real; ; {
		if err := unsafeFor(p, fi); err != nil {
			return err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		if fi, err = os.Stat(parent); err != nil {
			return err
		}
		p = parent
	}
}

// unsafeFor reports why p (with info fi) could be changed by a non-root user.
func unsafeFor(p string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if st.Uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, not root", p, st.Uid)
	}
	m := fi.Mode()
	if fi.IsDir() && m&fs.ModeSticky != 0 {
		return nil
	}
	if m&0o002 != 0 {
		return fmt.Errorf("%s is writable by every user (mode %04o)", p, m.Perm())
	}
	if m&0o020 != 0 && st.Gid != 0 {
		return fmt.Errorf("%s is writable by group %d (mode %04o)", p, st.Gid, m.Perm())
	}
	return nil
}

// Credential is the user a script runs as.
type Credential struct {
	Name     string
	UID, GID uint32
	Groups   []uint32
}

// ErrNoUser means the named user does not exist.
var ErrNoUser = errors.New("no such user")

// LookupUser resolves a user name (or numeric uid) to a credential.
func LookupUser(name string) (Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if _, nerr := strconv.Atoi(name); nerr == nil {
			u, err = user.LookupId(name)
		}
	}
	if err != nil {
		var unk user.UnknownUserError
		var unkID user.UnknownUserIdError
		if errors.As(err, &unk) || errors.As(err, &unkID) {
			return Credential{}, fmt.Errorf("user %q: %w", name, ErrNoUser)
		}
		return Credential{}, fmt.Errorf("looking up user %q: %w", name, err)
	}
	c := Credential{Name: u.Username}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return Credential{}, fmt.Errorf("user %q has a non-numeric id", name)
	}
	c.UID, c.GID = uint32(uid), uint32(gid)
	if gs, err := u.GroupIds(); err == nil {
		for _, g := range gs {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				c.Groups = append(c.Groups, uint32(n))
			}
		}
	}
	return c, nil
}
