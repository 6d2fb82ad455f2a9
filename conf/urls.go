package conf

import (
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// url blocks in an http or https check, keepalived's several url blocks in
// one HTTP_GET: each is a check of its own, with the check's settings and
// its own path, status, digest, regex, regex_no_match, host and max_body;
// the server is up only while all of them pass.

var urlSchema = &hcl.BodySchema{Attributes: attrs("path", "host", "status", "digest", "regex", "regex_no_match", "max_body")}

// checks decodes a check block into one check, or one per url block.
func (d *decoder) checks(hb *hcl.Block) []*rawCheck {
	c := d.check(hb)
	if len(c.b.blocks) == 0 {
		return []*rawCheck{c}
	}
	if c.kind != "http" && c.kind != "https" {
		for _, ub := range c.b.blocks {
			r := ub.DefRange
			d.errorf(&r, "url block in a "+c.kind+" check", "url blocks are for http and https checks.")
		}
		return []*rawCheck{c}
	}
	var out []*rawCheck
	for _, ub := range c.b.blocks {
		u := d.open(ub, ub.Body, urlSchema)
		m := *c.b
		m.attrs = slices.Clone(c.b.attrs)
		for _, a := range u.attrs {
			m.setAttr(a)
		}
		m.bad = maps.Clone(c.b.bad)
		m.blocks = nil
		out = append(out, d.checkFrom(&m, c.kind))
	}
	return out
}
