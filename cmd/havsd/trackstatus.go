package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/havsd/havsd/director"
)

// writeTrackers prints the vrrp_script, track_file and track_process
// trackers: state, value, last result and what each does to its instances.
func writeTrackers(w io.Writer, st director.Status) {
	if len(st.Trackers) == 0 {
		return
	}
	fmt.Fprintln(w, "\nTrackers")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TRACKER\tSTATE\tVALUE\tSINCE\tEFFECT\tLAST")
	for _, tr := range st.Trackers {
		since := "-"
		if !tr.Since.IsZero() {
			since = time.Since(tr.Since).Round(time.Second).String()
		}
		var effect []string
		for _, u := range tr.UsedBy {
			switch {
			case u.Fault:
				effect = append(effect, u.Instance+" FAULT")
			default:
				effect = append(effect, fmt.Sprintf("%s %+d", u.Instance, u.Delta))
			}
		}
		fmt.Fprintf(tw, "  %s %q\t%s\t%d\t%s\t%s\t%s\n", tr.Kind, tr.Name, strings.ToUpper(tr.State), tr.Value, since,
			strings.Join(effect, ", "), tr.Last)
	}
	tw.Flush()
}
