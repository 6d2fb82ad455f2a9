package conf

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics prints diags in the layout of hcl.NewDiagnosticTextWriter
// but with the position as file:line:col and a line of carets under the
// problem (hcl's writer marks it only with colour). Color adds terminal
// escapes to the severity.
func (s *Source) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, color bool) error {
	var b bytes.Buffer
	for _, d := range diags {
		s.writeDiagnostic(&b, d, color)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	return nil
}

func (s *Source) writeDiagnostic(b *bytes.Buffer, d *hcl.Diagnostic, color bool) {
	sev, esc := "Error", "\x1b[1;31m"
	if d.Severity == hcl.DiagWarning {
		sev, esc = "Warning", "\x1b[1;33m"
	}
	if color {
		fmt.Fprintf(b, "%s%s:\x1b[0m \x1b[1m%s\x1b[0m\n\n", esc, sev, d.Summary)
	} else {
		fmt.Fprintf(b, "%s: %s\n\n", sev, d.Summary)
	}
	if r := d.Subject; r != nil {
		fmt.Fprintf(b, "  on %s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
		file := s.Files()[r.Filename]
		if file != nil {
			if nav, ok := file.Nav.(interface{ ContextString(int) string }); ok {
				if ctx := nav.ContextString(r.Start.Byte); ctx != "" {
					fmt.Fprintf(b, ", in %s", ctx)
				}
			}
		}
		b.WriteString(":\n")
		if file != nil {
			writeSnippet(b, file.Bytes, *r)
		}
		b.WriteByte('\n')
	}
	if d.Detail != "" {
		b.WriteString(d.Detail)
		b.WriteString("\n\n")
	}
}

// writeSnippet prints the subject's first line and carets under the subject
// (to the end of that line when the subject spans lines).
func writeSnippet(b *bytes.Buffer, src []byte, r hcl.Range) {
	if r.Start.Byte < 0 || r.Start.Byte > len(src) {
		return
	}
	lineStart := bytes.LastIndexByte(src[:r.Start.Byte], '\n') + 1
	lineEnd := bytes.IndexByte(src[lineStart:], '\n')
	if lineEnd < 0 {
		lineEnd = len(src)
	} else {
		lineEnd += lineStart
	}
	line := strings.TrimRight(string(src[lineStart:lineEnd]), "\r")
	prefix := fmt.Sprintf("  %d: ", r.Start.Line)
	fmt.Fprintf(b, "%s%s\n", prefix, line)
	// The carets end at the subject's end or the end of its first line,
	// whichever comes first (the raw line, as a trimmed '\r' may hold the
	// subject).
	endByte := max(min(r.End.Byte, lineEnd), r.Start.Byte)
	var caret strings.Builder
	caret.WriteString(strings.Repeat(" ", len(prefix)))
	for _, c := range src[lineStart:r.Start.Byte] {
		if c == '\t' {
			caret.WriteByte('\t')
		} else if c < 0x80 || c >= 0xC0 {
			caret.WriteByte(' ') // one column per character, not per byte
		}
	}
	n := utf8.RuneCount(src[r.Start.Byte:endByte])
	caret.WriteString(strings.Repeat("^", max(n, 1)))
	b.WriteString(caret.String())
	b.WriteByte('\n')
}

// pos formats the start of a range as file:line:col.
func pos[R hcl.Range | *hcl.Range](r R) string {
	var rr hcl.Range
	switch v := any(r).(type) {
	case hcl.Range:
		rr = v
	case *hcl.Range:
		if v == nil {
			return "?"
		}
		rr = *v
	}
	return fmt.Sprintf("%s:%d:%d", rr.Filename, rr.Start.Line, rr.Start.Column)
}

// sortDiagnostics orders diagnostics by file and position, keeping the
// order of those at the same place; diagnostics without a range come first.
func sortDiagnostics(diags hcl.Diagnostics) {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		switch {
		case a.Subject == nil && b.Subject == nil:
			return 0
		case a.Subject == nil:
			return -1
		case b.Subject == nil:
			return 1
		}
		return cmp.Or(strings.Compare(a.Subject.Filename, b.Subject.Filename), cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte))
	})
}
