package main

// The generator of havsd(8), havsd.hcl(5) and the shell completions. Its
// sources are the ones --help uses: the command table (commands()), each
// command's flag set as its -h prints it, the package comment and exit
// codes of main.go, and doc/config-sketch.hcl. TestGeneratedDocs compares
// its output with the committed files under dist/; -update rewrites them.

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// flagDoc is one flag as -h prints it.
type flagDoc struct {
	Name, Arg, Usage string
}

// cmdDoc is one subcommand's help.
type cmdDoc struct {
	Name, Summary string
	Text          []string // lines -h prints besides the flag list (usage lines, notes)
	Flags         []flagDoc
}

// helpDocs runs every command with -h and parses what it prints.
func helpDocs(t *testing.T) []cmdDoc {
	t.Helper()
	// Defaults that depend on the environment must not reach the page.
	t.Setenv("TMPDIR", "/tmp")
	t.Setenv("HAVSD_VM_CACHE", "")
	var docs []cmdDoc
	for _, cmd := range commands() {
		if cmd.summary == "" {
			continue // internal, not in the usage either
		}
		var out bytes.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
		if code := c.main(context.Background(), []string{cmd.name, "-h"}); code != exitOK && code != exitUsage {
			t.Fatalf("havsd %s -h: exit %d: %s", cmd.name, code, out.String())
		}
		d := parseHelp(out.String())
		d.Name, d.Summary = cmd.name, cmd.summary
		docs = append(docs, d)
	}
	return docs
}

var flagLine = regexp.MustCompile(`^  -([\w.-]+)(?: ([\w.-]+))?(?:\t(.*))?$`)

// parseHelp reads flag.PrintDefaults output, with any text around it.
func parseHelp(s string) cmdDoc {
	var d cmdDoc
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\n")
		if u, ok := strings.CutPrefix(line, "    \t"); ok && len(d.Flags) > 0 {
			f := &d.Flags[len(d.Flags)-1]
			f.Usage = strings.TrimSpace(f.Usage + "\n" + u)
			continue
		}
		if m := flagLine.FindStringSubmatch(line); m != nil {
			d.Flags = append(d.Flags, flagDoc{Name: m[1], Arg: m[2], Usage: m[3]})
			continue
		}
		if strings.HasPrefix(line, "Usage of ") {
			continue
		}
		d.Text = append(d.Text, line)
	}
	for len(d.Text) > 0 && strings.TrimSpace(d.Text[len(d.Text)-1]) == "" {
		d.Text = d.Text[:len(d.Text)-1]
	}
	return d
}

// mainDocs returns main.go's package comment and its exit codes with their comments.
func mainDocs(t *testing.T) (pkgDoc string, exits [][2]string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	pkgDoc = strings.TrimPrefix(f.Doc.Text(), "Command ")
	codes := map[string]int{"exitOK": exitOK, "exitFailure": exitFailure, "exitUsage": exitUsage, "exitBadConfig": exitBadConfig}
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			if code, ok := codes[v.Names[0].Name]; ok && v.Comment != nil {
				exits = append(exits, [2]string{fmt.Sprint(code), strings.TrimSpace(v.Comment.Text())})
			}
		}
	}
	if len(exits) != len(codes) {
		t.Fatalf("main.go: found %d commented exit codes, want %d", len(exits), len(codes))
	}
	return pkgDoc, exits
}

// roff escapes text for a man page body line.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffLines escapes a block of text line by line; blank lines become .PP
// outside no-fill mode.
func roffLines(lines []string, fill bool) string {
	var b strings.Builder
	for _, l := range lines {
		switch {
		case strings.TrimSpace(l) == "" && fill:
			b.WriteString(".PP\n")
		case strings.TrimSpace(l) == "":
			b.WriteString("\n")
		default:
			b.WriteString(roff(l) + "\n")
		}
	}
	return b.String()
}

// manPage8 renders havsd(8).
func manPage8(pkgDoc string, exits [][2]string, docs []cmdDoc) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w(".\\\" Generated from havsd's command table and -h output; do not edit.\n")
	w(".\\\" Regenerate: go test ./cmd/havsd -run TestGeneratedDocs -update\n")
	w(".TH HAVSD 8 \"\" \"havsd\" \"System Administration\"\n")
	w(".SH NAME\nhavsd \\- high\\-availability load\\-balancer director (VRRP and IPVS)\n")
	w(".SH SYNOPSIS\n.B havsd\n.I command\n.RI [ flags ]\n")
	w(".SH DESCRIPTION\n%s", roffLines(strings.Split(strings.TrimSpace(pkgDoc), "\n"), true))
	w(".PP\nThe configuration file is described in\n.BR havsd.hcl (5).\n")
	w("Each command prints its flags with\n.BR \"havsd \\fIcommand\\fB \\-h\" .\n")
	w(".SH COMMANDS\n")
	for _, d := range docs {
		w(".SS \"havsd %s\"\n%s\n", d.Name, roff(capitalize(d.Summary)+"."))
		if len(d.Text) > 0 {
			w(".PP\n.nf\n%s.fi\n", roffLines(d.Text, false))
		}
		for _, f := range d.Flags {
			if f.Arg != "" {
				w(".TP\n.BI \\-%s \" %s\"\n", roff(f.Name), roff(f.Arg))
			} else {
				w(".TP\n.B \\-%s\n", roff(f.Name))
			}
			w("%s", roffLines(strings.Split(f.Usage, "\n"), false))
		}
	}
	w(".SH SIGNALS\n.TP\n.B SIGHUP\nReload the configuration, as\n.B havsd reload\ndoes; an invalid file is rejected and the running configuration kept.\n")
	w(".TP\n.BR SIGTERM \", \" SIGINT\nStop gracefully: send a priority\\-0 advert so that a backup takes over at once.\n")
	w(".TP\n.B SIGUSR1\nWrite the full internal state (as\n.BR \"havsd dump\" )\nto the log.\n")
	w(".SH EXIT STATUS\n")
	for _, e := range exits {
		w(".TP\n.B %s\n%s\n", e[0], roff(capitalize(e[1])+"."))
	}
	w(".SH FILES\n.TP\n.I %s\nThe configuration, see\n.BR havsd.hcl (5).\n", roff(defaultConfig))
	w(".TP\n.I %s\nThe control socket the client commands use (global.control_socket changes it).\n", roff(defaultSocket))
	w(".SH SEE ALSO\n.BR havsd.hcl (5),\n.BR ipvsadm (8),\n.BR keepalived (8),\n.BR systemctl (1)\n")
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sketchAttr is one attribute of the sketch, set or shown commented out.
type sketchAttr struct {
	Name, Example, Note string
	Optional            bool // commented out in the sketch: an alternative
}

// sketchBlock is one block type of the sketch with its attributes.
type sketchBlock struct {
	Path   string // "virtual_service.real_server"
	Label  string // the label's meaning, from the first instance ("NAME")
	Attrs  []sketchAttr
	Blocks []string // nested block paths
}

var commentedAttr = regexp.MustCompile(`^\s*#\s*([a-z_]+)\s*=\s*(.*)$`)

// sketchBlocks walks doc/config-sketch.hcl: every block type once, first
// occurrence first, with the attributes seen in any of its instances.
func sketchBlocks(t *testing.T, src []byte) []*sketchBlock {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, "config-sketch.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	lines := strings.Split(string(src), "\n")
	var out []*sketchBlock
	byPath := map[string]*sketchBlock{}
	var walk func(prefix string, body *hclsyntax.Body, parent *sketchBlock)
	walk = func(prefix string, body *hclsyntax.Body, parent *sketchBlock) {
		for _, blk := range body.Blocks {
			p := strings.TrimPrefix(prefix+"."+blk.Type, ".")
			sb := byPath[p]
			if sb == nil {
				sb = &sketchBlock{Path: p}
				if len(blk.Labels) > 0 {
					sb.Label = strings.ToUpper(labelName(blk.Type))
				}
				byPath[p] = sb
				out = append(out, sb)
				if parent != nil {
					parent.Blocks = append(parent.Blocks, p)
				}
			}
			attrs := slices.SortedFunc(func(yield func(*hclsyntax.Attribute) bool) {
				for _, a := range blk.Body.Attributes {
					if !yield(a) {
						return
					}
				}
			}, func(a, b *hclsyntax.Attribute) int { return a.SrcRange.Start.Line - b.SrcRange.Start.Line })
			for _, a := range attrs {
				line := lines[a.SrcRange.Start.Line-1]
				expr := string(a.Expr.Range().SliceBytes(src))
				_, note, _ := strings.Cut(line[a.SrcRange.End.Column-1:], "#")
				sb.addAttr(sketchAttr{Name: a.Name, Example: expr, Note: strings.TrimSpace(note)})
			}
			// Commented-out attributes directly inside this block are
			// alternatives the sketch documents.
			for l := blk.Body.SrcRange.Start.Line; l < blk.Body.SrcRange.End.Line-1; l++ {
				if m := commentedAttr.FindStringSubmatch(lines[l]); m != nil && !nestedLine(blk.Body, l+1) {
					ex, note, _ := strings.Cut(m[2], "#")
					sb.addAttr(sketchAttr{Name: m[1], Example: strings.TrimSpace(ex), Note: strings.TrimSpace(note), Optional: true})
				}
			}
			walk(p, blk.Body, sb)
		}
	}
	walk("", f.Body.(*hclsyntax.Body), nil)
	return out
}

func (b *sketchBlock) addAttr(a sketchAttr) {
	if !slices.ContainsFunc(b.Attrs, func(x sketchAttr) bool { return x.Name == a.Name }) {
		b.Attrs = append(b.Attrs, a)
	}
}

// nestedLine reports whether line (1-based) lies inside a child block of body.
func nestedLine(body *hclsyntax.Body, line int) bool {
	return slices.ContainsFunc(body.Blocks, func(b *hclsyntax.Block) bool {
		r := b.Range()
		return line >= r.Start.Line && line <= r.End.Line
	})
}

func labelName(blockType string) string {
	switch blockType {
	case "check":
		return "kind"
	case "real_server", "sorry_server":
		return "address"
	case "track_service":
		return "service"
	}
	return "name"
}

// manPage5 renders havsd.hcl(5) from the sketch.
func manPage5(sketch []byte, blocks []*sketchBlock) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w(".\\\" Generated from doc/config-sketch.hcl; do not edit.\n")
	w(".\\\" Regenerate: go test ./cmd/havsd -run TestGeneratedDocs -update\n")
	w(".TH HAVSD.HCL 5 \"\" \"havsd\" \"File Formats\"\n")
	w(".SH NAME\nhavsd.hcl \\- havsd configuration file\n")
	w(".SH SYNOPSIS\n.I %s\n", roff(defaultConfig))
	w(".SH DESCRIPTION\nThe configuration of\n.BR havsd (8)\nis written in HCL: blocks with a type and\n")
	w("labels hold attributes (\\fIname\\fR = \\fIvalue\\fR); strings are quoted, durations are\n")
	w("strings such as \"1s\" or \"300ms\", lists are written [a, b]; # starts a comment.\n")
	w(".PP\n.B havsd check \\-f\n.I file\nprints every problem with its line and column.\n")
	w("The same file serves keepalived's roles: VRRP instances (vrrp_instance,\nvrrp_sync_group) and IPVS virtual services with their real servers and checks\n(virtual_service).\n")
	w(".SH BLOCKS\nEach block below is shown with the attributes it accepts and an example value;\n")
	w("attributes marked \\fIalternative\\fR are commented out in the example at the end.\n")
	for _, sb := range blocks {
		head := strings.ReplaceAll(sb.Path, ".", " \\(-> ")
		if sb.Label != "" {
			head += " \\(dq" + sb.Label + "\\(dq"
		}
		w(".SS %s\n", head)
		if len(sb.Blocks) > 0 {
			names := make([]string, len(sb.Blocks))
			for i, p := range sb.Blocks {
				names[i] = p[strings.LastIndex(p, ".")+1:]
			}
			w("Blocks inside: %s.\n", roff(strings.Join(names, ", ")))
		}
		for _, a := range sb.Attrs {
			w(".TP\n.B %s\n", roff(a.Name))
			text := "Example: " + a.Example
			if a.Optional {
				text = "Alternative, e.g. " + a.Example
			}
			if a.Note != "" {
				text += "  (" + a.Note + ")"
			}
			w("%s\n", roff(text))
		}
	}
	w(".SH EXAMPLE\nEvery setting, as doc/config-sketch.hcl in the source shows it:\n.PP\n.nf\n.ft CR\n")
	body := strings.TrimLeft(string(sketch), "\n")
	if first, rest, ok := strings.Cut(body, "\n"); ok && strings.HasPrefix(first, "#") {
		body = rest // the sketch's own heading is about the source tree
	}
	w("%s", roffLines(strings.Split(strings.TrimRight(body, "\n"), "\n"), false))
	w(".ft\n.fi\n")
	w(".SH SEE ALSO\n.BR havsd (8),\n.BR keepalived.conf (5),\n.BR ipvsadm (8)\n")
	return b.String()
}
