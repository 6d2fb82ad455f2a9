package conf

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// predecoded is what a piece of a large file leaves once parsed: its
// virtual services decoded (the bulk of a large table) with their
// diagnostics, and the outline of its top-level blocks. The syntax tree of
// a decoded service is dropped at once, so a large load never holds the
// whole file's tree (parse.go).
type predecoded struct {
	services []*rawService
	diags    hcl.Diagnostics
	outline  outline
}

// predecode decodes the piece's virtual_service blocks, as the file
// decoder would, and removes them from body; the other blocks stay for it.
func predecode(body *hclsyntax.Body) predecoded {
	pd := predecoded{outline: outlineOf(body)}
	d := &decoder{}
	kept := body.Blocks[:0]
	for _, blk := range body.Blocks {
		if blk.Type != "virtual_service" || len(blk.Labels) != 1 {
			kept = append(kept, blk) // the file decoder reports it
			continue
		}
		s := d.service(blk.AsHCLBlock())
		slimService(s)
		pd.services = append(pd.services, s)
	}
	clear(body.Blocks[len(kept):])
	body.Blocks = kept
	pd.diags = d.diags
	return pd
}

// slimService lets go of the syntax trees a decoded service no longer
// needs: nested bodies, and literal attribute values (kept as a literal
// with the same range and value for validation).
func slimService(s *rawService) {
	slimBlock(s.b)
	for _, c := range s.checks {
		slimBlock(c.b)
	}
	for _, r := range append(append([]*rawReal{s.sorry}, s.reals...), s.sorryDup...) {
		if r == nil {
			continue
		}
		slimBlock(r.b)
		for _, c := range r.checks {
			slimBlock(c.b)
		}
	}
	for _, c := range s.classify {
		slimBlock(c.b)
	}
}

func slimBlock(b *block) {
	if b == nil {
		return
	}
	b.blocks = nil
	for i := range b.attrs {
		if _, ok := literal(b.attrs[i].expr); ok {
			b.attrs[i].expr = nil // decoded: its range is kept
		}
	}
}
