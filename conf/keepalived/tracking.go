package keepalived

import (
	"fmt"
	"slices"
	"strings"

	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/track"
)

// tracker is a vrrp_script, track_file or vrrp_track_process with its
// default weight.
type tracker struct {
	node       *Node
	key        track.Key
	weight     int
	reverse    bool
	paramMatch *Node // param_match, applied once the process line is read
	script     *track.Script
	file       *track.File
	process    *track.Process
}

// trackUse is a track_script / track_file / track_process line of an
// instance or sync group.
type trackUse struct {
	node    *Node
	key     track.Key
	weight  opt[int]
	reverse bool // with weight: keepalived then ignores the tracker's reverse
}

func defineTracker(kind track.Kind, sc scope) func(*converter, *Node) {
	return func(c *converter, n *Node) {
		name, ok := c.arg(n, 1)
		if !ok {
			return
		}
		c.extra(n, 1)
		t := &tracker{node: n, key: track.Key{Kind: kind, Name: name}}
		switch kind {
		case track.KindScript:
			t.script = &track.Script{Name: name, Interval: defaultScriptInterval, Rise: 1, Fall: 1}
		case track.KindFile:
			t.file = &track.File{Name: name}
			t.weight = 1
		case track.KindProcess:
			t.process = &track.Process{Name: name, Quorum: 1}
		}
		c.trackers = append(c.trackers, t)
		c.trk = t
		c.walk(sc, n.Children)
		c.trk = nil
		if t.paramMatch != nil && t.process != nil {
			c.applyParamMatch(t.paramMatch, t.process)
		}
		if t.script != nil && t.script.Timeout == 0 {
			t.script.Timeout = t.script.Interval // keepalived: the interval
		}
		if (t.script != nil && len(t.script.Argv) == 0) || (t.file != nil && t.file.Path == "") ||
			(t.process != nil && t.process.Match == "") {
			c.invalid(n, "%s %q says nothing to track", n.Keyword(), name)
			c.trackers = c.trackers[:len(c.trackers)-1]
		}
	}
}

// trackWeight reads "weight W [reverse|noreverse]" from args.
func (c *converter) trackWeight(n *Node, args []string) (w int, reverse, ok bool) {
	if len(args) < 2 || args[0] != "weight" {
		c.invalid(n, "expected weight N")
		return 0, false, false
	}
	w, err := parseWeight(args[1])
	if err != nil {
		c.invalid(n, "weight %q is not an integer in -253..253", args[1])
		return 0, false, false
	}
	if len(args) > 2 {
		switch args[2] {
		case "reverse":
			reverse = true
		case "noreverse":
		default:
			c.invalid(n, "%q is not reverse or noreverse (keepalived ignores the weight)", args[2])
			return 0, false, false
		}
		if len(args) > 3 {
			c.leftWord(n, strings.Join(args[3:], " "), "extra words keepalived does not take here", "")
		}
	}
	return w, reverse, true
}

func (c *converter) trackerWeight(n *Node) {
	if w, rev, ok := c.trackWeight(n, n.Words); ok {
		c.trk.weight, c.trk.reverse = w, rev
	}
}

// initFail reads a vrrp_script's init_fail.
func (c *converter) initFail(n *Node) {
	c.extra(n, 0)
	c.trk.script.InitFail = true
}

// paramMatch reads param_match [initial|partial] of a vrrp_track_process.
func (c *converter) paramMatch(n *Node) {
	if len(n.Words) > 1 && n.Words[1] != "initial" && n.Words[1] != "partial" {
		c.invalid(n, "param_match %q is not initial or partial (keepalived ignores it)", n.Words[1])
		return
	}
	c.extra(n, 1)
	c.trk.paramMatch = n
}

// applyParamMatch makes a process match its command line: exactly (no
// argument), its first words (partial), or its beginning (initial). With no
// parameters on the process line, keepalived's partial and initial accept
// any arguments after the command, which partial does here.
func (c *converter) applyParamMatch(n *Node, p *track.Process) {
	p.Args = true
	if len(n.Words) < 2 {
		return
	}
	p.ParamMatch = track.ParamPartial
	if n.Words[1] == "initial" && strings.Contains(p.Match, " ") {
		p.ParamMatch = track.ParamInitial
	}
}

func (c *converter) scriptCommand(n *Node) {
	if argv, ok := c.command(n); ok {
		c.trk.script.Argv = argv
	}
}

func scriptTimer(timeout bool) func(*converter, *Node) {
	return func(c *converter, n *Node) {
		d, ok := c.timer(n)
		if !ok {
			return
		}
		if timeout {
			c.trk.script.Timeout = d
		} else {
			c.trk.script.Interval = d
		}
	}
}

func scriptCount(fall bool) func(*converter, *Node) {
	return func(c *converter, n *Node) {
		v, ok := c.integer(n, 1, 1<<20)
		if !ok {
			return
		}
		if fall {
			c.trk.script.Fall = int(v)
		} else {
			c.trk.script.Rise = int(v)
		}
	}
}

func (c *converter) scriptUser(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.trk.script.User = s
		if len(n.Words) > 2 {
			c.leftWord(n, strings.Join(n.Words[2:], " "), "runs the script with this group", "the user's own group")
		}
	}
}

func (c *converter) globalScriptUser(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.global.scriptUser = s
		if len(n.Words) > 2 {
			c.leftWord(n, strings.Join(n.Words[2:], " "), "runs scripts with this group", "the user's own group")
		}
	}
}

func (c *converter) trackFilePath(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		c.extra(n, 1)
		c.trk.file.Path = s
	}
}

func (c *converter) processName(n *Node) {
	if s, ok := c.arg(n, 1); ok {
		p := c.trk.process
		p.Match = strings.Join(n.Args(), " ")
		p.Args = len(n.Words) > 2
		_ = s
	}
}

func processQuorum(max bool) func(*converter, *Node) {
	return func(c *converter, n *Node) {
		v, ok := c.integer(n, 0, 1<<20)
		if !ok {
			return
		}
		if max {
			c.trk.process.QuorumMax = int(v)
		} else {
			c.trk.process.Quorum = int(v)
		}
	}
}

func (c *converter) processDelay(n *Node) {
	if d, ok := c.timer(n); ok {
		c.trk.process.Delay = d
	}
}

// trackList reads track_script { NAME [weight W] } in an instance or group.
func trackList(kind track.Kind) func(*converter, *Node) {
	return func(c *converter, n *Node) {
		for _, m := range n.Children {
			u := trackUse{node: m, key: track.Key{Kind: kind, Name: m.Keyword()}}
			if len(m.Words) > 1 {
				w, rev, ok := c.trackWeight(m, m.Args())
				if !ok {
					continue
				}
				u.weight.put(w)
				u.reverse = rev
			}
			if c.inst != nil {
				c.inst.uses = append(c.inst.uses, u)
			} else {
				c.grp.uses = append(c.grp.uses, u)
			}
		}
	}
}

// finishTrackers fills cfg.Trackers: every tracker defined, and for each
// converted instance the trackers it uses (its own, then its sync
// group's) with the weight that applies.
func (c *converter) finishTrackers(cfg *conf.Config, converted map[string]bool) {
	defs := map[track.Key]*tracker{}
	for _, t := range c.trackers {
		if _, dup := defs[t.key]; dup {
			c.invalid(t.node, "%s is defined twice", t.key)
			continue
		}
		defs[t.key] = t
		switch {
		case t.script != nil:
			s := *t.script
			if s.User == "" {
				s.User = c.global.scriptUser // the same as havsd's global script_user
			}
			cfg.Trackers.Spec.Scripts = append(cfg.Trackers.Spec.Scripts, s)
		case t.file != nil:
			cfg.Trackers.Spec.Files = append(cfg.Trackers.Spec.Files, *t.file)
		case t.process != nil:
			cfg.Trackers.Spec.Processes = append(cfg.Trackers.Spec.Processes, *t.process)
		}
	}
	resolve := func(inst string, uses []trackUse) {
		for _, u := range uses {
			t, ok := defs[u.key]
			if !ok {
				c.left(u.node, fmt.Sprintf("tracks %s, which is not defined (keepalived ignores it)", u.key), "")
				continue
			}
			if slices.ContainsFunc(cfg.Trackers.Refs[inst], func(r track.Ref) bool { return r.Key == u.key }) {
				c.left(u.node, fmt.Sprintf("tracks %s for %s a second time", u.key, inst), "each tracker counts once per instance")
				continue
			}
			if cfg.Trackers.Refs == nil {
				cfg.Trackers.Refs = map[string][]track.Ref{}
			}
			rev := t.reverse // keepalived: a weight on the use brings its own reverse
			if u.weight.set {
				rev = u.reverse
			}
			ref := track.Ref{Key: u.key, Weight: u.weight.or(t.weight), Reverse: rev}
			ref.InitFail = t.script != nil && t.script.InitFail
			cfg.Trackers.Refs[inst] = append(cfg.Trackers.Refs[inst], ref)
		}
	}
	for _, in := range c.instances {
		if converted[in.cfg.Name] {
			resolve(in.cfg.Name, in.uses)
		}
	}
	for _, g := range c.groups {
		for _, m := range g.cfg.Instances {
			if converted[m] {
				resolve(m, g.uses)
			}
		}
	}
}
