package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/havsd/havsd/director"
)

// printSync writes the connection-sync daemons of `havsd status`; nothing
// without ipvs_sync.
func printSync(w io.Writer, s *director.SyncStatus) {
	if s == nil {
		return
	}
	state := s.State
	if state == "" {
		state = "unknown"
	}
	fmt.Fprintf(w, "\nIPVS sync daemons (instance %s, %s; both daemons run in any state; restarts %d, errors %d)\n",
		s.Instance, strings.ToUpper(state), s.Restarts, s.Errors)
	for _, d := range s.Daemons {
		what := "running"
		switch {
		case !d.Running:
			what = "NOT RUNNING"
		case !d.Wanted:
			what = "running, not configured (left alone)"
		}
		fmt.Fprintf(w, "  %-6s %s syncid %d group %s port %d ttl %d maxlen %d: %s\n",
			d.Role, d.Interface, d.SyncID, orDefault(d.Group), d.Port, d.TTL, d.MaxLen, what)
	}
	if s.LastError != "" {
		fmt.Fprintf(w, "  last error: %s\n", s.LastError)
	}
}

func orDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}
