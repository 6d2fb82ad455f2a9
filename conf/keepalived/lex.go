package keepalived

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

type token struct {
	text   string
	quoted bool // a quoted '{' or '}' is a word, not a brace
}

// tokenize splits a line into words and braces. Quotes (" or ') group
// whitespace into a word and are removed; inside them backslash escapes
// work as in keepalived (\n, \t, \x41, \101, \cC, \C).
func tokenize(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == '{' || c == '}':
			toks = append(toks, token{text: s[i : i+1]})
			i++
			continue
		}
		var b strings.Builder
		quoted := false
		for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '{' && s[i] != '}' {
			q := s[i]
			if q != '"' && q != '\'' {
				b.WriteByte(q)
				i++
				continue
			}
			quoted = true
			i++
			closed := false
			for i < len(s) {
				if s[i] == q {
					closed = true
					i++
					break
				}
				if s[i] == '\\' && i+1 < len(s) {
					n := unescape(s[i+1:], &b)
					i += 1 + n
					continue
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated quoted string (%c)", q)
			}
		}
		toks = append(toks, token{text: b.String(), quoted: quoted})
	}
	return toks, nil
}

// unescape writes the character escaped at the start of s (after the
// backslash) and returns how many bytes of s it used.
var simpleEscapes = map[byte]byte{'a': '\a', 'b': '\b', 'E': 0x1b, 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}

func unescape(s string, b *strings.Builder) int {
	simple := simpleEscapes
	c := s[0]
	if r, ok := simple[c]; ok {
		b.WriteByte(r)
		return 1
	}
	switch {
	case c == 'x':
		n := 1
		for n < len(s) && n < 3 && isHex(s[n]) {
			n++
		}
		if n == 1 {
			b.WriteByte('x')
			return 1
		}
		v, _ := strconv.ParseUint(s[1:n], 16, 8)
		b.WriteByte(byte(v))
		return n
	case c >= '0' && c <= '7':
		n := 1
		for n < len(s) && n < 3 && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		v, _ := strconv.ParseUint(s[:n], 8, 16)
		b.WriteByte(byte(v))
		return n
	case c == 'c' && len(s) > 1:
		b.WriteByte(s[1] & 0x1f)
		return 2
	}
	b.WriteByte(c)
	return 1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

var errTooLong = fmt.Errorf("variable substitution makes a line longer than %d KiB", maxLine>>10)

// substitute replaces $NAME (followed by whitespace or the end) and
// ${NAME}, again and again while something changes, as keepalived does.
// A line that is only a multi-line variable returns that variable's lines.
func (p *parser) substitute(s, file string) (string, []string, error) {
	if name, ok := onlyVar(s); ok {
		if v, ok := p.vars[name]; ok && v.lines != nil {
			return "", v.lines, nil
		}
	}
	for round := 0; round < 32 && strings.Contains(s, "$"); round++ {
		out, changed := p.substituteOnce(s, file)
		if len(out) > maxLine {
			return "", nil, errTooLong
		}
		if !changed {
			break
		}
		s = out
	}
	return s, nil, nil
}

func onlyVar(s string) (string, bool) {
	if strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") {
		return s[2 : len(s)-1], true
	}
	if len(s) > 1 && s[0] == '$' && !strings.ContainsAny(s, " \t{}") {
		return s[1:], true
	}
	return "", false
}

func (p *parser) substituteOnce(s, file string) (string, bool) {
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end > 0 {
				if v, ok := p.lookup(s[i+2:i+end], file); ok {
					b.WriteString(v)
					i += end + 1
					changed = true
					continue
				}
			}
		} else {
			j := i + 1
			for j < len(s) && isNameByte(s[j], j == i+1) {
				j++
			}
			if j > i+1 && (j == len(s) || s[j] == ' ' || s[j] == '\t') {
				if v, ok := p.lookup(s[i+1:j], file); ok {
					b.WriteString(v)
					i = j
					changed = true
					continue
				}
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), changed
}

// lookup returns a variable's value; multi-line ones joined by spaces when
// used inside a line.
func (p *parser) lookup(name, file string) (string, bool) {
	switch name {
	case "_PWD":
		return filepath.Dir(file), true
	case "_INSTANCE":
		return p.id, true
	case "_HASH":
		return "#", true
	case "_BANG":
		return "!", true
	}
	v, ok := p.vars[name]
	if v.lines != nil {
		return strings.Join(v.lines, " "), ok
	}
	return v.value, ok
}

// sequence expands "~SEQ(var, start, step, end) rest", "~SEQx(...)" and
// "~LST(var, v1, v2...)" / "~LST({a,b}, {1,2}, ...)" lines.
func (p *parser) sequence(pos Pos, text string, depth int) {
	open := strings.IndexByte(text, '(')
	end := closingParen(text, open)
	if open < 0 || end < 0 {
		p.errorf(pos, "%s: missing ( or )", strings.Fields(text)[0])
		return
	}
	kind, args, rest := text[:open], text[open+1:end], strings.TrimSpace(text[end+1:])
	var names []string
	var values [][]string
	var err error
	switch kind {
	case "~SEQ", "~SEQx":
		names, values, err = seqValues(args, kind == "~SEQx")
	case "~LST":
		names, values, err = lstValues(args)
	default:
		err = fmt.Errorf("unknown %s", kind)
	}
	if err != nil {
		p.errorf(pos, "%s: %v", kind, err)
		return
	}
	p.generated += len(values)
	if p.generated > maxGenerated || depth >= maxExpand {
		p.errorf(pos, "variables and sequences make more than %d lines", maxGenerated)
		return
	}
	for _, vals := range values {
		for i, n := range names {
			p.vars[n] = variable{value: vals[i]}
		}
		p.line(pos, rest, depth+1)
		if p.stopped() {
			return
		}
	}
}

func closingParen(s string, open int) int {
	if open < 0 {
		return -1
	}
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func seqValues(args string, hex bool) ([]string, [][]string, error) {
	f := strings.Split(args, ",")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	if len(f) < 2 || len(f) > 4 {
		return nil, nil, errors.New("want (var, [start, [step,]] end)")
	}
	nums := make([]int64, len(f)-1)
	for i, s := range f[1:] {
		v, err := strconv.ParseInt(s, 0, 64)
		if err != nil || v > 1<<40 || v < -(1<<40) {
			return nil, nil, fmt.Errorf("%q is not a number within ±2^40", s)
		}
		nums[i] = v
	}
	var start, step, end int64
	switch len(nums) {
	case 1:
		end = nums[0]
		start = 1
		if end < 0 {
			start = -1
		}
	case 2:
		start, end = nums[0], nums[1]
	case 3:
		start, step, end = nums[0], nums[1], nums[2]
	}
	if step == 0 {
		step = 1
		if end < start {
			step = -1
		}
	}
	if (end-start)/step > maxGenerated {
		return nil, nil, fmt.Errorf("more than %d values", maxGenerated)
	}
	var vals [][]string
	for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
		s := strconv.FormatInt(v, 10)
		if hex {
			s = strconv.FormatInt(v, 16)
		}
		vals = append(vals, []string{s})
	}
	return []string{f[0]}, vals, nil
}

// lstValues reads "var, v1, v2" or "{a, b}, {1, 2}, {3, 4}".
func lstValues(args string) ([]string, [][]string, error) {
	var groups [][]string
	for s := strings.TrimSpace(args); s != ""; {
		var g string
		if s[0] == '{' {
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return nil, nil, errors.New("missing }")
			}
			g, s = s[1:end], strings.TrimSpace(s[end+1:])
		} else {
			g, s, _ = strings.Cut(s, ",")
			s = "," + s
		}
		var fs []string
		for _, x := range strings.Split(g, ",") {
			fs = append(fs, strings.TrimSpace(x))
		}
		groups = append(groups, fs)
		s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), ","))
	}
	if len(groups) < 2 {
		return nil, nil, errors.New("want (var, value...)")
	}
	for _, g := range groups[1:] {
		if len(g) != len(groups[0]) {
			return nil, nil, fmt.Errorf("%d variables but %d values in {%s}", len(groups[0]), len(g), strings.Join(g, ","))
		}
	}
	return groups[0], groups[1:], nil
}
