package director

import (
	"context"
	"log/slog"
	"strings"
)

// LogDiagnostics writes rendered configuration diagnostics (as
// conf.Source.WriteDiagnostics prints them) as one record per diagnostic:
// errors at error level, warnings at warning level, each with its summary,
// its place (file:line:col) and its detail, instead of one record holding
// the whole escaped text. msg prefixes each record's message.
func LogDiagnostics(log *slog.Logger, msg, text string) {
	for _, d := range splitDiagnostics(text) {
		level := slog.LevelError
		if d.warning {
			level = slog.LevelWarn
		}
		attrs := []any{"summary", d.summary}
		if d.at != "" {
			attrs = append(attrs, "at", d.at)
		}
		if d.detail != "" {
			attrs = append(attrs, "detail", d.detail)
		}
		log.Log(context.Background(), level, msg, attrs...)
	}
}

type diagnostic struct {
	warning             bool
	summary, at, detail string
}

// splitDiagnostics reads the rendered text back into its diagnostics.
func splitDiagnostics(text string) []diagnostic {
	var out []diagnostic
	var cur *diagnostic
	var detail []string
	flush := func() {
		if cur != nil {
			cur.detail = strings.Join(detail, " ")
			out = append(out, *cur)
		}
		cur, detail = nil, nil
	}
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "Error: "), strings.HasPrefix(line, "Warning: "):
			flush()
			sev, summary, _ := strings.Cut(line, ": ")
			cur = &diagnostic{warning: sev == "Warning", summary: summary}
		case cur == nil:
			if s := strings.TrimSpace(line); s != "" {
				out = append(out, diagnostic{summary: s}) // not in the rendered form: keep it whole
			}
		case strings.HasPrefix(line, "  on ") && cur.at == "":
			at := strings.TrimSuffix(strings.TrimPrefix(line, "  on "), ":")
			at, _, _ = strings.Cut(at, ", in ")
			cur.at = at
		case strings.HasPrefix(line, " "), strings.TrimSpace(line) == "":
			// the quoted source line and its carets
		default:
			detail = append(detail, line)
		}
	}
	flush()
	return out
}
