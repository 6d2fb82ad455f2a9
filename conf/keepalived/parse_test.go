package keepalived

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// flat writes a tree one statement a line: "line: words" indented by depth.
func flat(nodes []*Node, depth int, b *strings.Builder) {
	for _, n := range nodes {
		fmt.Fprintf(b, "%s%d: %s", strings.Repeat("  ", depth), n.Pos.Line, strings.Join(n.Words, "|"))
		if n.Block {
			b.WriteString(" {")
		}
		b.WriteString("\n")
		flat(n.Children, depth+1, b)
	}
}

func parseString(t *testing.T, src, id string) (string, Diagnostics) {
	t.Helper()
	p, diags := Parse("k.conf", Options{ConfigID: id, ReadFile: memFS(map[string]string{"k.conf": src}).ReadFile,
		Glob: memFS(nil).Glob})
	if p == nil {
		return "", diags
	}
	var b strings.Builder
	flat(p.Nodes, 0, &b)
	return b.String(), diags
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, id, src, want string
	}{
		{"comments", "", "a 1 # c\n! whole line\nb 2!c\n", "1: a|1\n3: b|2\n"},
		{"braces anywhere", "", "a x{b 1}\nc\n{\nd\n}\ne { f { g } }\n",
			"1: a|x {\n  1: b|1\n2: c {\n  4: d\n6: e {\n  6: f {\n    6: g\n"},
		{"quotes", "", `s "a b" 'c "d"' x"y z"w "#!" "\t\x41\101\\"` + "\n",
			"1: s|a b|c \"d\"|xy zw|#!|\t\x41A\\\n"},
		{"quoted brace is a word", "", `a "{" }` + "\n", ""},
		{"variables", "", "$A=1\n$B=x${A}y\nv $A ${B} $Aq $C\n", "3: v|1|x1y|$Aq|$C\n"},
		{"substitution at use", "", "$X=${Y}\n$Y=1\nv $X\n$Y=2\nv $X\n", "3: v|1\n5: v|2\n"},
		{"multi-line variable", "", "$RS= \\\n r ${N} { \\\n  w 1 \\\n }\n$N=1\n$RS\n$N=2\n$RS\n",
			"6: r|1 {\n  6: w|1\n8: r|2 {\n  8: w|1\n"},
		{"conditionals", "main", "@main a 1\n@backup a 2\n@^main b 1\n@^backup b 2\n", "1: a|1\n4: b|2\n"},
		{"conditional definition", "backup", "@main $P=1\n@backup $P=2\np $P\n", "3: p|2\n"},
		{"router_id decides", "", "global_defs {\n router_id r1\n}\n@r1 x 1\n@r2 x 2\n", "1: global_defs {\n  2: router_id|r1\n4: x|1\n"},
		{"~SEQ", "", "~SEQ(I, 1, 2, 5) a ${I}\n~SEQx(J, 9, 11) b ${J}\n", "1: a|1\n1: a|3\n1: a|5\n2: b|9\n2: b|a\n2: b|b\n"},
		{"~LST", "", "~LST({A, B}, {1, x}, {2, y}) v $A $B\n", "1: v|1|x\n1: v|2|y\n"},
		{"predefined", "id7", "v ${_INSTANCE} ${_HASH} ${_BANG}\n", "1: v|id7|#|!\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := parseString(t, tc.src, tc.id)
			if tc.name == "quoted brace is a word" {
				// '}' closes nothing: an error, located.
				if !diags.HasErrors() || !strings.Contains(diags[0].String(), "k.conf:1: error: unbalanced '}'") {
					t.Errorf("diags %v", diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("errors: %v", diags)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestIncludes: globs relative to the including file, nested includes,
// positions in the included files, cycles refused.
func TestIncludes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.conf", "a 1\ninclude conf.d/*.conf\nb 2\n")
	write("conf.d/1.conf", "x {\n include ../sub/inner\n}\n")
	write("conf.d/2.conf", "y 2\n")
	write("sub/inner", "z 3\n")
	p, diags := Parse(filepath.Join(dir, "main.conf"), Options{})
	if p == nil {
		t.Fatal(diags)
	}
	var b strings.Builder
	for _, n := range p.Nodes {
		fmt.Fprintf(&b, "%s %s\n", strings.TrimPrefix(n.Pos.String(), dir+"/"), n.Keyword())
		for _, c := range n.Children {
			fmt.Fprintf(&b, "  %s %s\n", strings.TrimPrefix(c.Pos.String(), dir+"/"), c.Keyword())
		}
	}
	want := "main.conf:1 a\nconf.d/1.conf:1 x\n  sub/inner:1 z\nconf.d/2.conf:1 y\nmain.conf:3 b\n"
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}

	write("self.conf", "include self.conf\n")
	if _, diags := Parse(filepath.Join(dir, "self.conf"), Options{}); !hasDiag(diags, Error, "self.conf:1: error: include cycle") {
		t.Errorf("self include: %v", diags)
	}
	write("none.conf", "include nothing/*.conf\na 1\n")
	if p, diags := Parse(filepath.Join(dir, "none.conf"), Options{}); p == nil || !hasDiag(diags, Note, "matches no file") {
		t.Errorf("empty glob: %v", diags)
	}
}

// TestHostile: huge, binary, deeply nested and self-expanding input is
// refused with a located error, quickly and without a panic.
func TestHostile(t *testing.T) {
	big := strings.Repeat("virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n weight 1\n }\n}\n", 10<<20/60)
	for _, tc := range []struct {
		name, src, want string
	}{
		{"10 MB of services parses", big, ""},
		{"NUL byte", "a 1\nb \x00\n", "k.conf:2: error: binary data"},
		{"invalid UTF-8", "a 1\n\xff\xfe\n", "k.conf:2: error: invalid UTF-8"},
		{"nested too deep", strings.Repeat("a {\n", 100) + strings.Repeat("}\n", 100), "k.conf:65: error: blocks nested more than 64 deep"},
		{"exponential variables", "$A=x x x x x x x x\n$B=$A $A $A $A $A $A $A $A\n$C=$B $B $B $B $B $B $B $B\n$D=$C $C $C $C $C $C $C $C\n$E=$D $D $D $D $D $D $D $D\n$F=$E $E $E $E $E $E $E $E\nv $F\n",
			"k.conf:7: error: variable substitution makes a line longer than 64 KiB"},
		{"recursive variable", "$A=$A $A\nv $A\n", "k.conf:2: error: variable substitution"},
		{"sequence too long", "~SEQ(I, 1, 100000000) a\n", "k.conf:1: error: ~SEQ: more than"},
		{"sequence overflowing int64", "~SEQ(I, -9000000000000000000, 9000000000000000000) a\n", "k.conf:1: error: ~SEQ: \"-9000000000000000000\" is not a number"},
		{"unterminated quote", "a \"b\n", "k.conf:1: error: unterminated quoted string"},
		{"unclosed block", "a {\n b {\n}\n", "k.conf:1: error: unbalanced '{': a block is never closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := parseString(t, tc.src, "")
			if tc.want == "" {
				if diags.HasErrors() {
					t.Errorf("errors: %v", diags[0])
				}
				return
			}
			if !hasDiag(diags, Error, tc.want) {
				t.Errorf("want %q in %v", tc.want, diags)
			}
		})
	}
}

// TestGeneratedLimit: a few lines that would make gigabytes of text stop
// at the limit, with a located error.
func TestGeneratedLimit(t *testing.T) {
	a := strings.Repeat("a", 200)
	b := strings.TrimSpace(strings.Repeat("$A ", 300))
	src := "$A=" + a + "\n$B=" + b + "\n~SEQ(I, 1, 1000) ~SEQ(J, 1, 1000) x $B\n"
	_, diags := parseString(t, src, "")
	if !hasDiag(diags, Error, "k.conf:3: error: variables and sequences make more than") {
		t.Errorf("diags %v", diags)
	}
}

func TestExpandRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // addresses joined by spaces; "" refused
	}{
		{"10.0.0.1", "10.0.0.1"},
		{"10.0.0.1-3", "10.0.0.1 10.0.0.2 10.0.0.3"},
		{"10.0.0.255-10.0.1.1", "10.0.0.255 10.0.1.0 10.0.1.1"},
		{"10.0.0.8/31", "10.0.0.8 10.0.0.9"},
		{"2001:db8::9-b", "2001:db8::9 2001:db8::a 2001:db8::b"},
		{"10.0.0.5-3", ""},
		{"10.0.0.0/16", ""},
		{"10.0.0.0-10.1.0.0", ""},
		{"10.0.0.1-2001:db8::1", ""},
		{"nonsense", ""},
	} {
		addrs, ok := expandRange(tc.in)
		var got []string
		for _, a := range addrs {
			got = append(got, a.String())
		}
		if strings.Join(got, " ") != tc.want || ok != (tc.want != "") {
			t.Errorf("expandRange(%q) = %v %v, want %q", tc.in, got, ok, tc.want)
		}
	}
}
