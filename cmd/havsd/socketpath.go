package main

import (
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// socketFromBrokenFile finds global.control_socket in a configuration file
// that does not load, as far as its syntax allows, so that a client command
// still reaches the running director: `havsd reload -f FILE` must ask the
// director (which rejects the file and says why, and counts the rejection)
// rather than give up on its own. It returns "" when the file does not say.
func socketFromBrokenFile(path string) string {
	src, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	f, _ := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if f == nil {
		return ""
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return ""
	}
	for _, b := range body.Blocks {
		if b.Type != "global" || b.Body == nil {
			continue
		}
		a, ok := b.Body.Attributes["control_socket"]
		if !ok {
			continue
		}
		v, diags := a.Expr.Value(nil)
		if !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			return v.AsString()
		}
	}
	return ""
}
