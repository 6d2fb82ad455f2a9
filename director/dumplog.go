package director

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
)

// MarshalJSON writes the dump in the words of status --json (Vocabulary):
// snake-case names, durations as "1.5s", enumerations by name.
func (ds DumpState) MarshalJSON() ([]byte, error) {
	type plain DumpState // without this method
	return json.Marshal(Vocabulary(plain(ds)))
}

// LogDump writes the dump to log as one record per item (the director,
// each instance, service, real server, health-check target, ...) rather
// than one line of escaped JSON: what SIGUSR1 asks for.
func LogDump(log *slog.Logger, ds DumpState) {
	type plain DumpState
	doc, _ := Vocabulary(plain(ds)).(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		logItem(log, k, doc[k])
	}
}

// logItem writes v's scalar fields (and lists of scalars) as one record
// named path, and each composite field as records of its own.
func logItem(log *slog.Logger, path string, v any) {
	switch x := v.(type) {
	case []any:
		if !composite(x) || len(jsonText(x)) <= inlineMax {
			log.Info("state dump", "item", path, "values", jsonText(x))
			return
		}
		for i, e := range x {
			logItem(log, fmt.Sprintf("%s[%s]", path, label(e, i)), e)
		}
	case map[string]any:
		attrs := []any{"item", path}
		var nested []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			switch e := x[k].(type) {
			case map[string]any, []any:
				if text := jsonText(e); len(text) <= inlineMax {
					attrs = append(attrs, k, text)
				} else {
					nested = append(nested, k)
				}
			default:
				attrs = append(attrs, k, e)
			}
		}
		if len(attrs) > 2 || len(nested) == 0 {
			log.Log(context.Background(), slog.LevelInfo, "state dump", attrs...)
		}
		for _, k := range nested {
			logItem(log, path+"."+k, x[k])
		}
	default:
		log.Info("state dump", "item", path, "value", v)
	}
}

// inlineMax is the longest JSON text a field is written inline with.
const inlineMax = 160

// composite reports whether a list holds maps or lists.
func composite(list []any) bool {
	return slices.ContainsFunc(list, func(e any) bool {
		switch e.(type) {
		case map[string]any, []any:
			return true
		}
		return false
	})
}

// label names a list element by its name, key or address when it has one.
func label(e any, i int) string {
	if m, ok := e.(map[string]any); ok {
		for _, k := range []string{"name", "key", "address"} {
			if s, ok := m[k].(string); ok && s != "" {
				return s
			}
		}
	}
	return fmt.Sprint(i)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
