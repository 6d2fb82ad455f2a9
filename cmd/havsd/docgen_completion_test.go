package main

import (
	"fmt"
	"strings"
)

// fileArg reports whether a flag's argument names a file or directory, for
// completion; it returns the kind ("file" or "dir") or "".
func fileArg(f flagDoc) string {
	switch f.Arg {
	case "file", "path", "socket":
		return "file"
	case "directory":
		return "dir"
	}
	return ""
}

// bashCompletion renders the bash completion script.
func bashCompletion(docs []cmdDoc) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	names := make([]string, len(docs))
	for i, d := range docs {
		names[i] = d.Name
	}
	w("# bash completion for havsd. Generated from its command table and -h output; do not edit.\n")
	w("# Regenerate: go test ./cmd/havsd -run TestGeneratedDocs -update\n")
	w("_havsd() {\n")
	w("\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} flags files dirs\n")
	w("\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n")
	w("\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n", strings.Join(names, " "))
	w("\t\treturn\n\tfi\n")
	w("\tcase ${COMP_WORDS[1]} in\n")
	for _, d := range docs {
		var fl, files, dirs []string
		for _, f := range d.Flags {
			fl = append(fl, "-"+f.Name)
			switch fileArg(f) {
			case "file":
				files = append(files, "-"+f.Name)
			case "dir":
				dirs = append(dirs, "-"+f.Name)
			}
		}
		w("\t%s) flags=%q files=%q dirs=%q ;;\n", d.Name, strings.Join(fl, " "), strings.Join(files, " "), strings.Join(dirs, " "))
	}
	w("\tesac\n")
	w("\tif [[ \" $files \" == *\" $prev \"* ]]; then\n\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n")
	w("\telif [[ \" $dirs \" == *\" $prev \"* ]]; then\n\t\tCOMPREPLY=($(compgen -d -- \"$cur\"))\n")
	w("\telse\n\t\tCOMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n\tfi\n")
	w("}\n")
	w("complete -F _havsd havsd\n")
	return b.String()
}

// zshCompletion renders the zsh completion function (_havsd).
func zshCompletion(docs []cmdDoc) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("#compdef havsd\n")
	w("# zsh completion for havsd. Generated from its command table and -h output; do not edit.\n")
	w("# Regenerate: go test ./cmd/havsd -run TestGeneratedDocs -update\n\n")
	w("_havsd() {\n")
	w("  local -a commands\n  commands=(\n")
	for _, d := range docs {
		w("    %s\n", zshQuote(d.Name+":"+d.Summary))
	}
	w("  )\n")
	w("  if (( CURRENT == 2 )); then\n    _describe -t commands 'havsd command' commands\n    return\n  fi\n")
	w("  shift words\n  (( CURRENT-- ))\n")
	w("  case $words[1] in\n")
	for _, d := range docs {
		w("  %s)\n    _arguments", d.Name)
		for _, f := range d.Flags {
			spec := "-" + f.Name + "[" + zshDesc(f.Usage) + "]"
			if f.Arg != "" {
				action := ""
				switch fileArg(f) {
				case "file":
					action = "_files"
				case "dir":
					action = "_files -/"
				}
				spec += ":" + f.Arg + ":" + action
			}
			w(" \\\n      %s", zshQuote(spec))
		}
		w("\n    ;;\n")
	}
	w("  esac\n}\n\n_havsd \"$@\"\n")
	return b.String()
}

// zshDesc is the first line of a flag's usage, without its default, with
// the characters _arguments treats specially escaped.
func zshDesc(usage string) string {
	s, _, _ := strings.Cut(usage, "\n")
	if i := strings.Index(s, " (default"); i > 0 {
		s = s[:i]
	}
	return strings.NewReplacer("[", `\[`, "]", `\]`, ":", `\:`).Replace(s)
}

func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
