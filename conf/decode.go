package conf

import (
	"cmp"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// block is one decoded HCL block: its attributes with their value ranges,
// and its nested blocks. Attributes that failed to decode are marked bad so
// that validation does not report them twice.
type block struct {
	file       string // the file holding the block
	def, label span   // the header, and the first label (if hasLabel)
	hasLabel   bool
	attrs      []attr // in source order
	blocks     hcl.Blocks
	bad        map[string]bool // nil until an attribute fails (markBad)
	unknown    []string        // attribute and block names the schema does not take
}

// attr is one attribute of a block. Its ranges are held compactly (a
// large table has hundreds of thousands of attributes); the file name is
// the block's.
type attr struct {
	name string
	// expr is the value as written; nil once a literal value has been
	// decoded (slimBlock), when rng alone stands for it.
	expr      hcl.Expression
	rng, nrng span   // the value's and the name's ranges
	file      string // the file of the ranges when not the block's (a group member's address)
}

// span is an hcl.Range without its file name.
type span struct {
	startLine, startCol, startByte int32
	endLine, endCol, endByte       int32
}

func spanOf(r hcl.Range) span {
	return span{int32(r.Start.Line), int32(r.Start.Column), int32(r.Start.Byte),
		int32(r.End.Line), int32(r.End.Column), int32(r.End.Byte)}
}

// in returns the range of s in the file named file.
func (s span) in(file string) hcl.Range {
	return hcl.Range{Filename: file,
		Start: hcl.Pos{Line: int(s.startLine), Column: int(s.startCol), Byte: int(s.startByte)},
		End:   hcl.Pos{Line: int(s.endLine), Column: int(s.endCol), Byte: int(s.endByte)}}
}

// attrFrom makes an attr of a decoded attribute.
func attrFrom(name string, expr hcl.Expression, nameRange hcl.Range) attr {
	return attr{name: name, expr: expr, rng: spanOf(expr.Range()), nrng: spanOf(nameRange)}
}

// attr returns the attribute called name, or nil.
func (b *block) attr(name string) *attr {
	for i := range b.attrs {
		if b.attrs[i].name == name {
			return &b.attrs[i]
		}
	}
	return nil
}

// written reports whether the attribute is present, decoded well or not.
func (b *block) written(name string) bool { return b.attr(name) != nil }

// setAttr adds the attribute, or replaces the one of the same name.
func (b *block) setAttr(a attr) {
	if old := b.attr(a.name); old != nil {
		*old = a
		return
	}
	b.attrs = append(b.attrs, a)
}

// delAttr removes the attribute called name, if present.
func (b *block) delAttr(name string) {
	b.attrs = slices.DeleteFunc(b.attrs, func(a attr) bool { return a.name == name })
}

// has reports whether the attribute is present and decoded well.
func (b *block) has(name string) bool {
	return b.attr(name) != nil && !b.bad[name]
}

// markBad marks an attribute that failed to decode.
func (b *block) markBad(name string) {
	if b.bad == nil {
		b.bad = map[string]bool{}
	}
	b.bad[name] = true
}

// at returns the range of the attribute's value, or the block header if the
// attribute is absent.
func (b *block) at(name string) *hcl.Range {
	if a := b.attr(name); a != nil {
		r := a.rng.in(a.fileIn(b))
		return &r
	}
	return b.defAt()
}

// defAt returns the range of the block's header.
func (b *block) defAt() *hcl.Range {
	r := b.def.in(b.file)
	return &r
}

// nameAt returns the range of the attribute's name.
func (a *attr) nameAt(b *block) *hcl.Range {
	r := a.nrng.in(a.fileIn(b))
	return &r
}

// fileIn returns the name of the file holding a, an attribute of b.
func (a *attr) fileIn(b *block) string {
	if a.file != "" {
		return a.file
	}
	return b.file
}

// misspelt reports whether a name the schema does not take looks like one
// of names: the cause of a follow-on "missing" error, already reported.
func (b *block) misspelt(names ...string) bool {
	for _, u := range b.unknown {
		if resembles(u, names) {
			return true
		}
	}
	return false
}

// label returns the range of the first label, or the block header.
func (b *block) labelAt() *hcl.Range {
	if b.hasLabel {
		r := b.label.in(b.file)
		return &r
	}
	return b.defAt()
}

// decoder turns HCL bodies into blocks and attribute values into Go values,
// collecting diagnostics.
type decoder struct {
	diags hcl.Diagnostics
}

func (d *decoder) errorf(subject *hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: subject})
}

// open decodes body against schema.
func (d *decoder) open(hb *hcl.Block, body hcl.Body, schema *hcl.BodySchema) *block {
	b := openSyntax(body, schema)
	if b == nil {
		b = d.openContent(body, schema)
	}
	if hb != nil {
		b.file, b.def = hb.DefRange.Filename, spanOf(hb.DefRange)
		if len(hb.LabelRanges) > 0 {
			b.label, b.hasLabel = spanOf(hb.LabelRanges[0]), true
		}
	}
	return b
}

// openContent decodes body through hcl's Content, which reports what the
// schema does not take, a missing required attribute and wrong labels.
func (d *decoder) openContent(body hcl.Body, schema *hcl.BodySchema) *block {
	content, diags := body.Content(schema)
	unknown := unknownNames(body, schema)
	d.diags = append(d.diags, explainUnknown(body, schema, unknown, diags)...)
	b := &block{blocks: content.Blocks, unknown: unknown}
	b.attrs = make([]attr, 0, len(content.Attributes))
	for name, a := range content.Attributes {
		b.attrs = append(b.attrs, attrFrom(name, a.Expr, a.NameRange))
	}
	sortAttrs(b.attrs)
	return b
}

// openSyntax decodes a native-syntax body that the schema takes as it is
// (every name known, every required attribute there, every block with its
// labels), reading the syntax tree directly: Content would find nothing to
// report, and building its maps is most of the cost of decoding a large
// table. Nil for any other body.
func openSyntax(body hcl.Body, schema *hcl.BodySchema) *block {
	syn, ok := body.(*hclsyntax.Body)
	if !ok || !readSyntax {
		return nil
	}
	for name := range syn.Attributes {
		if !slices.ContainsFunc(schema.Attributes, func(a hcl.AttributeSchema) bool { return a.Name == name }) {
			return nil
		}
	}
	for _, a := range schema.Attributes {
		if !a.Required {
			continue
		}
		if _, ok := syn.Attributes[a.Name]; !ok {
			return nil
		}
	}
	for _, sb := range syn.Blocks {
		i := slices.IndexFunc(schema.Blocks, func(s hcl.BlockHeaderSchema) bool { return s.Type == sb.Type })
		if i < 0 || len(sb.Labels) != len(schema.Blocks[i].LabelNames) {
			return nil
		}
	}
	b := &block{attrs: make([]attr, 0, len(syn.Attributes))}
	for name, a := range syn.Attributes {
		b.attrs = append(b.attrs, attrFrom(name, a.Expr, a.NameRange))
	}
	sortAttrs(b.attrs)
	if len(syn.Blocks) > 0 {
		b.blocks = make(hcl.Blocks, len(syn.Blocks))
		for i, sb := range syn.Blocks {
			b.blocks[i] = sb.AsHCLBlock()
		}
	}
	return b
}

// readSyntax enables openSyntax; its test turns it off to compare.
var readSyntax = true

// sortAttrs puts attributes in source order.
func sortAttrs(as []attr) {
	slices.SortFunc(as, func(x, y attr) int { return cmp.Compare(x.nrng.startByte, y.nrng.startByte) })
}

// literal returns the value of an expression written as a plain literal:
// a number, bool or null, or a quoted string without interpolation. Such
// a value needs no evaluation; anything else is evaluated.
func literal(x hcl.Expression) (cty.Value, bool) {
	switch e := x.(type) {
	case *hclsyntax.LiteralValueExpr:
		return e.Val, true
	case *hclsyntax.TemplateExpr:
		if len(e.Parts) != 1 {
			return cty.NilVal, false
		}
		if lit, ok := e.Parts[0].(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String && !lit.Val.IsNull() {
			return lit.Val, true
		}
	}
	return cty.NilVal, false
}

// eval returns an attribute's value: a literal's as written, anything
// else evaluated without variables or functions.
func eval(a *attr) (cty.Value, hcl.Diagnostics) {
	if v, ok := literal(a.expr); ok {
		return v, nil
	}
	return a.expr.Value(nil)
}

// value evaluates an attribute (no variables or functions) and converts it.
func (d *decoder) value(b *block, name string, want cty.Type, what string) (cty.Value, bool) {
	a := b.attr(name)
	if a == nil {
		return cty.NilVal, false
	}
	v, diags := eval(a)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		b.markBad(name)
		return cty.NilVal, false
	}
	rng := a.rng.in(a.fileIn(b))
	if v.IsNull() {
		d.errorf(&rng, "Missing value", "The attribute %q must not be null.", name)
		b.markBad(name)
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, want)
	if err != nil || !cv.IsWhollyKnown() {
		d.errorf(&rng, "Incorrect attribute value type", "The attribute %q must be %s.", name, what)
		b.markBad(name)
		return cty.NilVal, false
	}
	if cv.CanIterateElements() {
		for it := cv.ElementIterator(); it.Next(); {
			if _, e := it.Element(); e.IsNull() {
				d.errorf(&rng, "Missing value", "The attribute %q must not hold null elements.", name)
				b.markBad(name)
				return cty.NilVal, false
			}
		}
	}
	return cv, true
}

func (d *decoder) str(b *block, name string, dst *string) {
	if v, ok := d.value(b, name, cty.String, "a string"); ok {
		*dst = v.AsString()
	}
}

// enum reads a string attribute that takes one of choices. A value that is
// a choice but for its case is accepted and normalised, with a warning;
// anything else is left for validation to report with a suggestion.
func (d *decoder) enum(b *block, name string, dst *string, choices []string) {
	d.str(b, name, dst)
	if !b.has(name) {
		return
	}
	*dst = d.normalise(b.at(name), name, *dst, choices)
}

// normalise returns the choice val spells in another case, with a warning
// at rng, or val itself.
func (d *decoder) normalise(rng *hcl.Range, what, val string, choices []string) string {
	if slices.Contains(choices, val) {
		return val
	}
	for _, c := range choices {
		if strings.EqualFold(c, val) {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Value read as " + strconv.Quote(c),
				Detail: fmt.Sprintf("%s %q is read as %q; write it so to silence this note.", what, val, c), Subject: rng})
			return c
		}
	}
	return val
}

func (d *decoder) boolean(b *block, name string, dst *bool) {
	if v, ok := d.value(b, name, cty.Bool, "true or false"); ok {
		*dst = v.RawEquals(cty.True) // v is a known bool; True() goes through Equals, which allocates
	}
}

// whole converts a number to int64, refusing fractions and huge values.
func whole(v cty.Value) (int64, bool) {
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, false
	}
	n, acc := bf.Int64()
	return n, acc == big.Exact
}

func (d *decoder) integer(b *block, name string, dst *int64) {
	v, ok := d.value(b, name, cty.Number, "a whole number")
	if !ok {
		return
	}
	n, ok := whole(v)
	if !ok {
		d.errorf(b.at(name), "Invalid number", "The attribute %q must be a whole number, not %s.", name, v.AsBigFloat().Text('g', -1))
		b.markBad(name)
		return
	}
	*dst = n
}

func (d *decoder) strs(b *block, name string, dst *[]string) {
	v, ok := d.value(b, name, cty.List(cty.String), "a list of strings")
	if !ok {
		return
	}
	out := []string{}
	for _, e := range v.AsValueSlice() {
		out = append(out, e.AsString())
	}
	*dst = out
}

func (d *decoder) nums(b *block, name string, dst *[]int64) {
	v, ok := d.value(b, name, cty.List(cty.Number), "a list of numbers")
	if !ok {
		return
	}
	out := []int64{}
	for _, e := range v.AsValueSlice() {
		n, ok := whole(e)
		if !ok {
			d.errorf(b.at(name), "Invalid number", "The attribute %q must hold whole numbers.", name)
			b.markBad(name)
			return
		}
		out = append(out, n)
	}
	*dst = out
}

// dur reads a duration written as a Go duration string ("1s", "100ms").
func (d *decoder) dur(b *block, name string, dst *time.Duration) {
	a := b.attr(name)
	if a == nil {
		return
	}
	v, diags := eval(a)
	if diags.HasErrors() || v.IsNull() || !v.IsWhollyKnown() {
		d.value(b, name, cty.String, "a duration") // reports the problem
		return
	}
	var text string
	switch v.Type() {
	case cty.Number:
		text = v.AsBigFloat().Text('g', -1)
	case cty.String:
		text = v.AsString()
	default:
		d.value(b, name, cty.String, `a duration such as "1s"`)
		return
	}
	dv, err := time.ParseDuration(text)
	if err != nil || v.Type() == cty.Number {
		hint := `"1s" or "100ms"`
		if _, isNum := new(big.Float).SetString(text); isNum {
			hint = fmt.Sprintf("%q", text+"s")
		}
		d.errorf(b.at(name), "Invalid duration", "%q is not a duration: write %s.", text, hint)
		b.markBad(name)
		return
	}
	if dv < 0 {
		d.errorf(b.at(name), "Invalid duration", "The attribute %q must not be negative.", name)
		b.markBad(name)
		return
	}
	*dst = dv
}

// addr reads an IP address (no zone, IPv4-mapped addresses unmapped).
func (d *decoder) addr(b *block, name string, dst *netip.Addr) {
	var s string
	d.str(b, name, &s)
	if !b.has(name) {
		return
	}
	a, err := parseAddr(s)
	if err != nil {
		d.errorf(b.at(name), "Invalid address", "%q is not an IP address.", s)
		b.markBad(name)
		return
	}
	*dst = a
}

func (d *decoder) addrs(b *block, name string, dst *[]netip.Addr) {
	var ss []string
	d.strs(b, name, &ss)
	if !b.has(name) {
		return
	}
	out := []netip.Addr{}
	for _, s := range ss {
		a, err := parseAddr(s)
		if err != nil {
			d.errorf(b.at(name), "Invalid address", "%q is not an IP address.", s)
			b.markBad(name)
			return
		}
		out = append(out, a)
	}
	*dst = out
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, err
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("zone not allowed")
	}
	return a.Unmap(), nil
}

// parseAddrPort reads "a.b.c.d:p", "a.b.c.d", "[v6]:p", "[v6]" or "v6". The
// port is -1 when absent.
func parseAddrPort(s string) (netip.Addr, int, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Addr().Zone() != "" {
			return netip.Addr{}, 0, fmt.Errorf("zone not allowed")
		}
		return ap.Addr().Unmap(), int(ap.Port()), nil
	}
	host := s
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	a, err := parseAddr(host)
	if err != nil || (a.Is4() && host != s) {
		return netip.Addr{}, 0, fmt.Errorf("not an address")
	}
	return a, -1, nil
}

var ctyNumber = cty.Number

func itoa(n int64) string { return fmt.Sprint(n) }

var ctyZero = cty.Zero
