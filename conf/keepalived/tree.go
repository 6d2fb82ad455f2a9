package keepalived

import (
	"path/filepath"
	"strings"
)

// includeWords are include and its checked variants (includer, includem,
// includew, includeb, includea).
var includeWords = map[string]bool{"include": true, "includer": true, "includem": true,
	"includew": true, "includeb": true, "includea": true}

// words adds one line's tokens to the tree: a statement ends at the end of
// the line, at '{' (which opens its block) or at '}'.
func (p *parser) words(pos Pos, toks []token) {
	for _, t := range toks {
		switch {
		case !t.quoted && t.text == "{":
			p.open(pos)
		case !t.quoted && t.text == "}":
			p.close(pos)
		default:
			if p.cur == nil {
				p.cur = &Node{Pos: pos}
			}
			p.cur.Words = append(p.cur.Words, t.text)
		}
	}
	p.endLine()
}

func (p *parser) top() *level { return p.levels[len(p.levels)-1] }

// open starts a block: for the statement on this line, or for the previous
// one when the brace is on a line of its own.
func (p *parser) open(pos Pos) {
	n := p.cur
	p.cur = nil
	lv := p.top()
	switch {
	case n != nil:
		lv.nodes = append(lv.nodes, n)
	case len(lv.nodes) > 0 && !lv.nodes[len(lv.nodes)-1].Block:
		n = lv.nodes[len(lv.nodes)-1]
	default:
		p.errorf(pos, "'{' without a keyword before it")
		n = &Node{Pos: pos, Words: []string{"{"}}
	}
	if len(p.levels) > maxDepth {
		p.errorf(pos, "blocks nested more than %d deep", maxDepth)
	}
	n.Block = true
	p.levels = append(p.levels, &level{opener: n})
}

func (p *parser) close(pos Pos) {
	p.flush()
	if len(p.levels) == 1 {
		p.errorf(pos, "unbalanced '}': no block is open")
		return
	}
	lv := p.top()
	lv.opener.Children = lv.nodes
	p.levels = p.levels[:len(p.levels)-1]
}

// flush ends the statement being read.
func (p *parser) flush() *Node {
	n := p.cur
	if n == nil {
		return nil
	}
	p.cur = nil
	lv := p.top()
	lv.nodes = append(lv.nodes, n)
	return n
}

func (p *parser) endLine() {
	n := p.flush()
	if n == nil || !includeWords[n.Keyword()] {
		return
	}
	lv := p.top()
	lv.nodes = lv.nodes[:len(lv.nodes)-1]
	p.include(n)
}

// include reads the files an include statement names, relative to the
// including file, as if their text stood in its place.
func (p *parser) include(n *Node) {
	if len(n.Words) < 2 {
		p.errorf(n.Pos, "%s: no file name", n.Keyword())
		return
	}
	for _, pattern := range n.Args() {
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(filepath.Dir(n.Pos.File), pattern)
		}
		matches, err := p.opt.Glob(pattern)
		if err != nil {
			p.errorf(n.Pos, "%s %s: %v", n.Keyword(), pattern, err)
			continue
		}
		if len(matches) == 0 {
			if strings.ContainsAny(pattern, "*?[") && n.Keyword() != "includea" && n.Keyword() != "includem" {
				p.notef(n.Pos, n.Keyword(), "%s matches no file", pattern)
				continue
			}
			p.errorf(n.Pos, "%s %s: no such file", n.Keyword(), pattern)
			continue
		}
		for _, m := range matches {
			p.file(m, n.Pos)
		}
	}
}

// finish reports blocks left open at the end of the input.
func (p *parser) finish() {
	p.flush()
	for len(p.levels) > 1 {
		lv := p.top()
		p.errorf(lv.opener.Pos, "unbalanced '{': %s block is never closed", lv.opener.Keyword())
		lv.opener.Children = lv.nodes
		p.levels = p.levels[:len(p.levels)-1]
	}
}
