package netlab

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// State is what a topology created, as recorded in its state file.
type State struct {
	Prefix     string       `json:"prefix"`
	Created    time.Time    `json:"created"`
	Dir        string       `json:"dir,omitempty"`
	Namespaces []string     `json:"namespaces"`
	Procs      []ProcRecord `json:"procs,omitempty"`
}

// ProcRecord identifies a process started in a node. StartTime (clock ticks
// since boot, from /proc/PID/stat) guards against killing a recycled PID.
type ProcRecord struct {
	Node      string `json:"node"`
	Name      string `json:"name"`
	PID       int    `json:"pid"`
	StartTime uint64 `json:"start_time"`
}

// ReadState reads a state file.
func ReadState(path string) (State, error) { return readState(path) }

func readState(path string) (State, error) {
	var st State
	b, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("reading topology state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("reading topology state %s: %w", path, err)
	}
	return st, nil
}

// save writes the state file atomically.
func (t *Topology) save() error {
	t.mu.Lock()
	b, err := json.MarshalIndent(t.state, "", "  ")
	t.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encoding topology state: %w", err)
	}
	path := t.Spec.StateFile()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing topology state: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing topology state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing topology state: %w", err)
	}
	return nil
}
