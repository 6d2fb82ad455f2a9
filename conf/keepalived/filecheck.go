package keepalived

import (
	"fmt"

	"github.com/havsd/havsd/track"
)

// FILE_CHECK { track_file NAME; weight W [reverse|noreverse] } in a
// real_server becomes a track_file block of the real server: the file's
// value × weight is added to its weight, weight 0 holds it down while the
// value is not 0. Without a weight, the track_file's own weight and
// reverse apply, as in keepalived.

// fileCheck is one FILE_CHECK of a real server.
type fileCheck struct {
	node    *Node
	name    string
	weight  opt[int]
	reverse bool
}

func (c *converter) fileCheckBlock(n *Node) {
	c.extra(n, 0)
	fc := &fileCheck{node: n}
	for _, m := range n.Children {
		switch m.Keyword() {
		case "track_file":
			if v, ok := c.arg(m, 1); ok {
				c.extra(m, 1)
				fc.name = v
			}
		case "weight":
			w, rev, ok := c.fileCheckWeight(m)
			if ok {
				fc.weight.put(w)
				fc.reverse = rev
			}
		default:
			c.unknown(scopeFileCheck, m)
		}
	}
	if fc.name == "" {
		c.invalid(n, "FILE_CHECK has no track_file")
		return
	}
	c.rs.fileChecks = append(c.rs.fileChecks, fc)
}

// fileCheckWeight reads "weight W [reverse|noreverse]"; havsd takes
// -65535..65535 for a real server (an IPVS weight is at most 65535 here).
func (c *converter) fileCheckWeight(n *Node) (int, bool, bool) {
	s, ok := c.arg(n, 1)
	if !ok {
		return 0, false, false
	}
	var w int
	if _, err := fmt.Sscan(s, &w); err != nil || fmt.Sprint(w) != s {
		c.invalid(n, "weight %q is not an integer", s)
		return 0, false, false
	}
	if w < -65535 || w > 65535 {
		c.left(n, fmt.Sprintf("weight %d is beyond what havsd adds to a real server's weight", w), "-65535..65535")
		return 0, false, false
	}
	rev := false
	if len(n.Words) > 2 {
		switch n.Words[2] {
		case "reverse":
			rev = true
		case "noreverse":
		default:
			c.invalid(n, "%q is not reverse or noreverse (keepalived ignores the weight)", n.Words[2])
			return 0, false, false
		}
		c.extra(n, 2)
	}
	return w, rev, true
}

// finishFileChecks resolves a real server's FILE_CHECKs against the
// track_files defined.
func (c *converter) finishFileChecks(r *real) []track.Ref {
	var out []track.Ref
	for _, fc := range r.fileChecks {
		k := track.Key{Kind: track.KindFile, Name: fc.name}
		var t *tracker
		for _, x := range c.trackers {
			if x.key == k {
				t = x
				break
			}
		}
		if t == nil {
			c.left(fc.node, fmt.Sprintf("tracks track_file %s, which is not defined (keepalived ignores the FILE_CHECK)", fc.name), "")
			continue
		}
		ref := track.Ref{Key: k, Weight: t.weight, Reverse: t.reverse}
		if fc.weight.set {
			ref.Weight, ref.Reverse = fc.weight.v, fc.reverse
		}
		out = append(out, ref)
	}
	return out
}
