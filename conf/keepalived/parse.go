package keepalived

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Node is one keepalived statement: a keyword with its arguments and, for a
// block, the statements inside its braces.
type Node struct {
	Pos      Pos
	Words    []string // keyword first; never empty
	Block    bool     // followed by { ... }
	Children []*Node
}

// Keyword returns the statement's first word.
func (n *Node) Keyword() string { return n.Words[0] }

// Args returns the words after the keyword.
func (n *Node) Args() []string { return n.Words[1:] }

// Options tune Parse. The zero value reads the real file system.
type Options struct {
	// ConfigID evaluates "@id" and "@^id" lines (keepalived's -i). Empty:
	// the first unconditional router_id of global_defs.
	ConfigID string
	// ReadFile and Glob reach the files; nil means os.ReadFile and
	// filepath.Glob.
	ReadFile func(name string) ([]byte, error)
	Glob     func(pattern string) ([]string, error)
}

// Limits that keep hostile input from exhausting memory or time.
const (
	maxInput     = 64 << 20 // bytes read over all files
	maxLine      = 64 << 10 // bytes in a line, after substitution
	maxDepth     = 64       // nested blocks
	maxExpand    = 16       // nested multi-line variables and includes
	maxGenerated = 1 << 18  // lines made by ~SEQ, ~LST and variables
	maxErrors    = 50       // then stop
)

// Parsed is a keepalived configuration read by Parse.
type Parsed struct {
	Name     string  // the main file
	ConfigID string  // the id "@" lines were evaluated for
	Nodes    []*Node // top-level statements
}

// Parse reads the keepalived configuration in file name and every file it
// includes. Errors are located; the tree is nil when there is one.
func Parse(name string, opt Options) (*Parsed, Diagnostics) {
	if opt.ReadFile == nil {
		opt.ReadFile = os.ReadFile
	}
	if opt.Glob == nil {
		opt.Glob = filepath.Glob
	}
	id := opt.ConfigID
	if id == "" {
		// First pass: find the file's own router_id; a second pass is
		// needed only when it is set and "@" lines depend on it.
		p := newParser(opt, "")
		p.file(name, Pos{File: name})
		if p.diags.HasErrors() {
			return nil, p.diags
		}
		id = routerID(p.levels[0].nodes)
		if id == "" || !p.conditional {
			return p.result(name)
		}
	}
	p := newParser(opt, id)
	p.file(name, Pos{File: name})
	return p.result(name)
}

func (p *parser) result(name string) (*Parsed, Diagnostics) {
	p.finish()
	if p.diags.HasErrors() {
		return nil, p.diags
	}
	return &Parsed{Name: name, ConfigID: p.id, Nodes: p.levels[0].nodes}, p.diags
}

func routerID(nodes []*Node) string {
	for _, n := range nodes {
		if n.Keyword() == "global_defs" {
			for _, c := range n.Children {
				if c.Keyword() == "router_id" && len(c.Words) > 1 {
					return c.Words[1]
				}
			}
		}
	}
	return ""
}

type variable struct {
	value string
	lines []string // a multi-line definition
}

type level struct {
	opener *Node // nil at top level
	nodes  []*Node
}

type parser struct {
	opt       Options
	id        string
	diags     Diagnostics
	errors    int
	vars      map[string]variable
	files     []string // the include chain, for cycle detection
	read      int64
	generated int
	// generatedBytes counts the text variables and sequences made.
	generatedBytes int
	levels         []*level
	cur            *Node // the statement being read on the current line
	// conditional is set once an "@" line has been seen.
	conditional bool
	curFile     string
}

func newParser(opt Options, id string) *parser {
	return &parser{opt: opt, id: id, vars: map[string]variable{}, levels: []*level{{}}}
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	p.errors++
	if p.errors == maxErrors {
		p.diags = append(p.diags, Diagnostic{Pos: pos, Severity: Error, Message: "too many errors; stopping"})
	}
	if p.errors >= maxErrors {
		return
	}
	p.diags = append(p.diags, Diagnostic{Pos: pos, Severity: Error, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) notef(pos Pos, kw, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{Pos: pos, Severity: Note, Keyword: kw, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) stopped() bool { return p.errors >= maxErrors }

// file reads one file and feeds its lines; from is the include line.
func (p *parser) file(name string, from Pos) {
	clean := filepath.Clean(name)
	for i, f := range p.files {
		if f == clean {
			chain := append(append([]string{}, p.files[i:]...), clean)
			p.errorf(from, "include cycle: %s", strings.Join(chain, " includes "))
			return
		}
	}
	if len(p.files) >= maxExpand {
		p.errorf(from, "includes nested more than %d deep", maxExpand)
		return
	}
	data, err := p.opt.ReadFile(name)
	if err != nil {
		p.errorf(from, "cannot read %s: %v", name, unwrapPath(err))
		return
	}
	p.read += int64(len(data))
	if p.read > maxInput {
		p.errorf(from, "%s: the configuration is larger than %d MiB in total", name, maxInput>>20)
		return
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		p.errorf(Pos{name, 1 + bytes.Count(data[:i], []byte("\n"))}, "binary data (a NUL byte): not a keepalived configuration")
		return
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		p.errorf(Pos{name, 1 + bytes.Count(data[:i], []byte("\n"))}, "invalid UTF-8: not a text configuration")
		return
	}
	p.files = append(p.files, clean)
	saved := p.curFile
	p.curFile = name
	p.lines(Pos{File: name, Line: 1}, strings.Split(string(data), "\n"), true, 0)
	p.endLine()
	p.curFile = saved
	p.files = p.files[:len(p.files)-1]
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// lines processes raw lines. Numbered lines start at at; the lines of a
// variable are all placed where it was used.
func (p *parser) lines(at Pos, raw []string, numbered bool, depth int) {
	for i := 0; i < len(raw) && !p.stopped(); i++ {
		pos := at
		if numbered {
			pos.Line = at.Line + i
		}
		text := strings.TrimSuffix(raw[i], "\r")
		if len(text) > maxLine {
			p.errorf(pos, "line longer than %d KiB", maxLine>>10)
			continue
		}
		// A multi-line definition: "$NAME=" then lines ending in '\'.
		if name, val, ok := definition(stripComment(text)); ok && strings.HasSuffix(val, `\`) {
			var body []string
			if v := strings.TrimSpace(strings.TrimSuffix(val, `\`)); v != "" {
				body = append(body, v)
			}
			for i+1 < len(raw) {
				i++
				l := strings.TrimSuffix(raw[i], "\r")
				cont := strings.HasSuffix(strings.TrimRight(l, " \t"), `\`)
				l = strings.TrimSuffix(strings.TrimRight(l, " \t"), `\`)
				body = append(body, l)
				if !cont {
					break
				}
			}
			p.vars[name] = variable{lines: body}
			continue
		}
		p.line(pos, text, depth)
	}
}

// line processes one logical line: comment, condition, definition,
// sequence, substitution, then its words.
func (p *parser) line(pos Pos, text string, depth int) {
	text = strings.TrimSpace(stripComment(text))
	if text == "" {
		return
	}
	if text[0] == '@' {
		p.conditional = true
		word, rest, _ := strings.Cut(text[1:], " ")
		if i := strings.IndexAny(word, "\t"); i >= 0 {
			word, rest = word[:i], word[i:]+" "+rest
		}
		neg := strings.HasPrefix(word, "^")
		if (strings.TrimPrefix(word, "^") == p.id) == neg {
			return
		}
		text = strings.TrimSpace(rest)
		if text == "" {
			return
		}
	}
	if name, val, ok := definition(text); ok {
		p.vars[name] = variable{value: val}
		return
	}
	if strings.HasPrefix(text, "~SEQ") || strings.HasPrefix(text, "~LST") {
		p.sequence(pos, text, depth)
		return
	}
	out, multi, err := p.substitute(text, pos.File)
	if err != nil {
		p.errorf(pos, "%v", err)
		return
	}
	if multi != nil {
		if depth >= maxExpand {
			p.errorf(pos, "variables nested more than %d deep", maxExpand)
			return
		}
		p.generated += len(multi)
		if p.generated > maxGenerated {
			p.errorf(pos, "variables and sequences make more than %d lines", maxGenerated)
			return
		}
		p.lines(pos, multi, false, depth+1)
		return
	}
	if depth > 0 {
		p.generatedBytes += len(out)
		if p.generatedBytes > maxInput {
			p.errorf(pos, "variables and sequences make more than %d MiB of text", maxInput>>20)
			return
		}
	}
	toks, err := tokenize(out)
	if err != nil {
		p.errorf(pos, "%v", err)
		return
	}
	p.words(pos, toks)
}

// definition recognises "$NAME=VALUE" (no space before '=').
func definition(s string) (name, value string, ok bool) {
	s = strings.TrimLeft(s, " \t")
	if len(s) < 2 || s[0] != '$' {
		return "", "", false
	}
	i := 1
	for i < len(s) && isNameByte(s[i], i == 1) {
		i++
	}
	if i == 1 || i >= len(s) || s[i] != '=' {
		return "", "", false
	}
	return s[1:i], strings.TrimSpace(s[i+1:]), true
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}

// stripComment cuts the line at the first '#' or '!' outside quotes.
func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' || c == '!':
			return s[:i]
		}
	}
	return s
}
