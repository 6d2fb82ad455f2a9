package conf

import (
	"runtime"
	"sort"
	"strconv"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// splitMin is the size below which a file is parsed in one piece: splitting
// pays only for large tables.
const splitMin = 256 << 10

// parseHCL parses a configuration file as hclsyntax.ParseConfig does, with
// the same ranges, but a large file is cut at the line starts between its
// top-level blocks and the pieces are parsed concurrently. The lexer's
// token buffer then lives per piece (it is most of a large parse's memory)
// and the pieces share the cores. A file the cutter is unsure of (heredocs,
// templates in strings) and a file with any parse error are parsed whole,
// so diagnostics are exactly the whole-file parser's. Pieces come back
// with their virtual services already decoded (predecode.go), no longer in
// the file's body.
func parseHCL(src []byte, name string) (*hcl.File, []predecoded, hcl.Diagnostics) {
	cuts := splitTopLevel(src, pieceSize(len(src)))
	if len(cuts) >= 2 {
		if f, pre, ok := parsePieces(src, name, cuts, true); ok {
			return f, pre, nil
		}
	}
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	return f, nil, diags
}

// pieceLen is the size of the pieces of a large file. Small pieces keep
// the lexer's token slice small: it grows by append, and past a few hundred
// tokens each growth is by a quarter, so a piece of n tokens allocates
// about 5n tokens' worth, against 2-3n for a piece of a few hundred. With
// 4 KB pieces a 10,000-service table allocates 27 % less in all than with
// 280 KB ones (BenchmarkLoad10k), and the pieces still share the cores.
const pieceLen = 4 << 10

// pieceSize is the size of the pieces a file of n bytes is cut into.
func pieceSize(n int) int {
	if n < splitMin {
		return n + 1
	}
	return pieceLen
}

// cut is where a piece starts: a byte offset at a line start, and its line.
type cut struct{ byte, line int }

// splitTopLevel returns the starts of pieces of about size bytes, each
// beginning at a line start outside every block, string and comment; nil
// when the file holds something the cutter does not model.
func splitTopLevel(src []byte, size int) []cut {
	if len(src) < size {
		return nil
	}
	cuts := []cut{{0, 1}}
	depth, line, last := 0, 1, 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '\n':
			line++
			if depth == 0 && i+1-last >= size && i+1 < len(src) {
				last = i + 1
				cuts = append(cuts, cut{last, line})
			}
		case '{', '[', '(':
			depth++
		case '}', ']', ')':
			depth--
			if depth < 0 {
				return nil
			}
		case '"':
			end, ok := skipString(src, i+1)
			if !ok {
				return nil
			}
			i = end
		case '#':
			i = skipLine(src, i)
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				i = skipLine(src, i)
			} else if i+1 < len(src) && src[i+1] == '*' {
				end, nl, ok := skipBlockComment(src, i+2)
				if !ok {
					return nil
				}
				i, line = end, line+nl
			}
		case '<':
			if i+1 < len(src) && src[i+1] == '<' { // a heredoc, perhaps
				return nil
			}
		}
	}
	return cuts
}

// skipString returns the offset of the quote closing the string opened
// before i; false for templates, newlines or no end.
func skipString(src []byte, i int) (int, bool) {
	for ; i < len(src); i++ {
		switch src[i] {
		case '"':
			return i, true
		case '\\':
			i++
		case '\n':
			return 0, false
		case '{':
			if p := src[i-1]; p == '$' || p == '%' {
				return 0, false
			}
		}
	}
	return 0, false
}

// skipLine returns the offset just before the newline ending the line at i.
func skipLine(src []byte, i int) int {
	for i+1 < len(src) && src[i+1] != '\n' {
		i++
	}
	return i
}

// skipBlockComment returns the offset of the '/' closing the comment
// opened before i and the newlines it holds.
func skipBlockComment(src []byte, i int) (int, int, bool) {
	nl := 0
	for ; i+1 < len(src); i++ {
		if src[i] == '\n' {
			nl++
		} else if src[i] == '*' && src[i+1] == '/' {
			return i + 1, nl, true
		}
	}
	return 0, 0, false
}

// parsePieces parses the pieces concurrently and joins their bodies, with
// each piece's services decoded first if decode; false when a piece has
// diagnostics or the pieces redefine an attribute, for the whole-file
// parser to report.
func parsePieces(src []byte, name string, cuts []cut, decode bool) (*hcl.File, []predecoded, bool) {
	bodies := make([]*hclsyntax.Body, len(cuts))
	pre := make([]predecoded, len(cuts))
	failed := make([]bool, len(cuts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(cuts)) {
		wg.Go(func() {
			for i := range next {
				end := len(src)
				if i+1 < len(cuts) {
					end = cuts[i+1].byte
				}
				start := hcl.Pos{Line: cuts[i].line, Column: 1, Byte: cuts[i].byte}
				f, diags := hclsyntax.ParseConfig(src[cuts[i].byte:end], name, start)
				body, ok := f.Body.(*hclsyntax.Body)
				bodies[i], failed[i] = body, len(diags) > 0 || !ok
				if decode && !failed[i] {
					pre[i] = predecode(body)
				}
			}
		})
	}
	for i := range cuts {
		next <- i
	}
	close(next)
	wg.Wait()
	joined := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	for i, b := range bodies {
		if failed[i] {
			return nil, nil, false
		}
		for k, a := range b.Attributes {
			if _, dup := joined.Attributes[k]; dup {
				return nil, nil, false
			}
			joined.Attributes[k] = a
		}
		joined.Blocks = append(joined.Blocks, b.Blocks...)
	}
	first, last := bodies[0], bodies[len(bodies)-1]
	joined.SrcRange = hcl.RangeBetween(first.SrcRange, last.SrcRange)
	joined.EndRange = last.EndRange
	// The file's navigator (the "in virtual_service ..." context of a
	// diagnostic) is unexported and points at the parsed body: parse an
	// empty file and put the joined body in its place.
	f, _ := hclsyntax.ParseConfig(nil, name, hcl.InitialPos)
	*f.Body.(*hclsyntax.Body) = *joined
	f.Bytes = src
	if !decode {
		pre = nil
	}
	return f, pre, true
}

// outline is what a diagnostic needs of a parsed file once it is loaded:
// the top-level blocks' extents and headers, for the "in virtual_service
// ..." context, without the syntax tree (most of a large file's memory).
type outline []outlined

type outlined struct {
	rng    hcl.Range
	header string
	def    hcl.Range
}

// outlineOf returns the outline of a parsed body; nil when it is not
// native syntax.
func outlineOf(body hcl.Body) outline {
	syn, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	o := make(outline, 0, len(syn.Blocks))
	for _, b := range syn.Blocks {
		h := b.Type
		for _, l := range b.Labels {
			h += " " + strconv.Quote(l)
		}
		o = append(o, outlined{rng: b.Range(), header: h, def: b.DefRange()})
	}
	return o
}

// find returns the top-level block holding offset, as the parser's own
// navigator does.
func (o outline) find(offset int) (outlined, bool) {
	i := sort.Search(len(o), func(i int) bool { return o[i].rng.End.Byte > offset })
	if i < len(o) && o[i].rng.ContainsOffset(offset) {
		return o[i], true
	}
	return outlined{}, false
}

// ContextString names the top-level block holding offset (hcled's
// interface, used by diagnostic writers).
func (o outline) ContextString(offset int) string {
	b, _ := o.find(offset)
	return b.header
}

// ContextDefRange returns the header range of the top-level block holding
// offset.
func (o outline) ContextDefRange(offset int) hcl.Range {
	b, _ := o.find(offset)
	return b.def
}

// slim drops the syntax trees of the source's files, keeping their bytes
// and outlines for diagnostics. pre are the pieces of a file parsed in
// pieces, whose services are no longer in its body.
func (s *Source) slim(pre []predecoded) {
	for name, f := range s.files {
		if f == nil {
			continue
		}
		nav := outlineOf(f.Body)
		if pre != nil {
			nav = nil
			for _, p := range pre {
				nav = append(nav, p.outline...)
			}
		}
		if nav == nil {
			continue
		}
		s.files[name] = &hcl.File{Body: hcl.EmptyBody(), Bytes: f.Bytes, Nav: nav}
	}
}
