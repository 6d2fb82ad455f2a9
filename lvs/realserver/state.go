package realserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stateFile holds, for every sysctl Setup changed, the value it found
// (key "net.ipv4.conf.DEV.NAME"). One file for all VIPs: the "all" sysctls
// are shared, and the value worth restoring is the one before the first
// Setup.
const stateFile = "realserver-sysctls.json"

func loadFound(dir string) (map[string]string, error) {
	found := map[string]string{}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return found, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the sysctl values found before: %w", err)
	}
	if err := json.Unmarshal(b, &found); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, stateFile), err)
	}
	return found, nil
}

func saveFound(dir string, found map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("recording the sysctl values found: %w", err)
	}
	path := filepath.Join(dir, stateFile)
	if len(found) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", path, err)
		}
		return nil
	}
	b, _ := json.MarshalIndent(found, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("recording the sysctl values found: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("recording the sysctl values found: %w", err)
	}
	return nil
}

// restoreSysctls sets each sysctl of cfg's mode back to the value Setup
// found, if it still holds the value Setup wrote, and forgets the record.
func restoreSysctls(cfg Config) ([]string, error) {
	found, err := loadFound(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, s := range sysctls(cfg) {
		now, err := getSysctl(cfg.SysctlRoot, s)
		if err != nil {
			return done, err
		}
		was, ok := found[s.key()]
		switch {
		case !ok && now == s.val:
			done = append(done, fmt.Sprintf("left %s=%s: setup found it so, or has no record of changing it", s.key(), now))
			continue
		case !ok:
			continue
		case now != s.val:
			done = append(done, fmt.Sprintf("left %s=%s: changed since setup set it to %s", s.key(), now, s.val))
		case now != was:
			if err := setSysctl(cfg.SysctlRoot, s, was); err != nil {
				return done, err
			}
			done = append(done, fmt.Sprintf("set %s=%s (as found before setup; was %s)", s.key(), was, now))
		}
		delete(found, s.key())
	}
	return done, saveFound(cfg.StateDir, found)
}
