package keepalived

import (
	"fmt"
	"io"
	"strings"
)

// Pos is a place in a keepalived configuration file.
type Pos struct {
	File string
	Line int
}

// String writes the position as file:line.
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Severity says what a Diagnostic means for the conversion.
type Severity uint8

// Severities, from worst.
const (
	SeverityInvalid Severity = iota
	Error                    // the input cannot be read or parsed
	NotConverted             // a setting havsd cannot express was left out
	Note                     // converted, with a difference worth knowing
)

// String returns "error", "not converted" or "note".
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case NotConverted:
		return "not converted"
	case Note:
		return "note"
	}
	return "invalid"
}

// Diagnostic is one finding, located at the keepalived line it is about.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Keyword  string // the keepalived keyword, if the finding is about one
	Message  string // for NotConverted: what the keyword does in keepalived
	Closest  string // the closest havsd equivalent, if any
}

// String writes the diagnostic on one line, as Write does.
func (d Diagnostic) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: ", d.Pos, d.Severity)
	if d.Keyword != "" {
		fmt.Fprintf(&b, "%s: ", d.Keyword)
	}
	b.WriteString(d.Message)
	if d.Closest != "" {
		fmt.Fprintf(&b, "; in havsd: %s", d.Closest)
	}
	return b.String()
}

// Diagnostics is a list of findings.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an Error.
func (ds Diagnostics) HasErrors() bool { return ds.count(Error) > 0 }

// LeftOut reports whether anything was not converted.
func (ds Diagnostics) LeftOut() bool { return ds.count(NotConverted) > 0 }

func (ds Diagnostics) count(s Severity) int {
	n := 0
	for _, d := range ds {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// Write prints one diagnostic a line and returns the first write error.
func (ds Diagnostics) Write(w io.Writer) error {
	for _, d := range ds {
		if _, err := fmt.Fprintln(w, d.String()); err != nil {
			return err
		}
	}
	return nil
}
