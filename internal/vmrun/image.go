package vmrun

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// buildInitrd writes base followed by an archive with the options' files and
// a generated /init. The kernel unpacks concatenated archives in order, so
// later entries override the base image's.
func buildInitrd(dst, base string, o Options) (err error) {
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("creating initrd: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing initrd: %w", cerr)
		}
	}()
	b, err := os.Open(base)
	if err != nil {
		return fmt.Errorf("opening base image: %w", err)
	}
	defer b.Close()
	n, err := io.Copy(f, b)
	if err != nil {
		return fmt.Errorf("copying base image: %w", err)
	}
	// A following archive must start on a 4-byte boundary; the kernel skips
	// zero padding between archives.
	if r := n % 4; r != 0 {
		if _, err := f.Write(make([]byte, 4-r)); err != nil {
			return fmt.Errorf("writing initrd: %w", err)
		}
	}
	cw := newCPIOWriter(f)
	for _, file := range o.Files {
		data, err := os.ReadFile(file.Host)
		if err != nil {
			return fmt.Errorf("reading %s for the guest: %w", file.Host, err)
		}
		st, err := os.Stat(file.Host)
		if err != nil {
			return fmt.Errorf("reading %s for the guest: %w", file.Host, err)
		}
		cw.File(file.Guest, st.Mode().Perm(), data)
	}
	cw.File("init", 0o755, []byte(initScript(o)))
	if err := cw.Close(); err != nil {
		return fmt.Errorf("writing initrd: %w", err)
	}
	return nil
}

// initScript is the guest's /init: mount, load modules, run the command,
// print its exit status between markers, power off.
func initScript(o Options) string {
	var env []string
	for _, kv := range append([]string{"HAVSD_VM=1", "HOME=/tmp",
		"PATH=/sbin:/usr/sbin:/bin:/usr/bin"}, o.Env...) {
		env = append(env, "export "+shellQuote(kv))
	}
	var argv []string
	for _, a := range o.Command {
		argv = append(argv, shellQuote(a))
	}
	return fmt.Sprintf(`#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t tmpfs tmpfs /tmp
/bin/busybox mount -t tmpfs tmpfs /run
mkdir -p /run/netns /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
%s
/sbin/modprobe -a $(cat /etc/havsd-vm-modules) || echo "havsd-vm: some modules failed to load"
/sbin/ip link set lo up
hostname havsd-vm
cd %s
echo "%s$(cut -d' ' -f1 /proc/uptime)%s"
%s </dev/null
rc=$?
sync
echo "%s${rc}%s"
poweroff -f
reboot -f
`, strings.Join(env, "\n"), shellQuote(o.Dir), markStart, markEnd,
		strings.Join(argv, " "), markExit, markEnd)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
