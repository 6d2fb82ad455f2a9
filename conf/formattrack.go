package conf

import (
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/havsd/havsd/track"
	"github.com/havsd/havsd/vrrp"
)

// formatTrackers writes the vrrp_script, track_file and track_process
// blocks. Their weights are left at the default: every use in an instance
// is written with its resolved weight (formatTrackRefs).
func formatTrackers(body *hclwrite.Body, t Trackers) {
	for _, s := range t.Spec.Scripts {
		body.AppendNewline()
		b := body.AppendNewBlock("vrrp_script", []string{s.Name}).Body()
		b.SetAttributeValue("command", strList(s.Argv))
		setDur(b, "interval", s.Interval, DefaultScriptInterval)
		setDur(b, "timeout", s.Timeout, s.Interval)
		setInt(b, "rise", int64(s.Rise), DefaultScriptRise)
		setInt(b, "fall", int64(s.Fall), DefaultScriptFall)
		setStr(b, "user", s.User, "")
		setBool(b, "init_fail", s.InitFail, false)
	}
	for _, f := range t.Spec.Files {
		body.AppendNewline()
		b := body.AppendNewBlock("track_file", []string{f.Name}).Body()
		b.SetAttributeValue("path", str(f.Path))
	}
	for _, p := range t.Spec.Processes {
		body.AppendNewline()
		b := body.AppendNewBlock("track_process", []string{p.Name}).Body()
		b.SetAttributeValue("name", str(p.Match))
		if p.Args {
			b.SetAttributeValue("match", str("args"))
		}
		if p.ParamMatch != track.ParamExact {
			b.SetAttributeValue("param_match", str(p.ParamMatch.String()))
		}
		setInt(b, "quorum", int64(p.Quorum), DefaultProcessQuorum)
		setInt(b, "quorum_max", int64(p.QuorumMax), 0)
		setDur(b, "delay", p.Delay, 0)
	}
}

// formatTrackRefs writes an instance's tracker uses with their weights.
func formatTrackRefs(b *hclwrite.Body, refs []track.Ref) {
	for _, r := range refs {
		typ := map[track.Kind]string{track.KindScript: "track_script", track.KindFile: "track_file", track.KindProcess: "track_process"}[r.Key.Kind]
		tb := b.AppendNewBlock(typ, []string{r.Key.Name}).Body()
		tb.SetAttributeValue("weight", num(int64(r.Weight)))
		setBool(tb, "reverse", r.Reverse, false)
	}
}

// interfaceWeight is the signed weight of an instance's track_interface.
func (t Trackers) interfaceWeight(instance string, ti vrrp.TrackInterface) InterfaceWeight {
	for _, w := range t.Interfaces[instance] {
		if w.Name == ti.Name {
			return w
		}
	}
	return InterfaceWeight{Name: ti.Name, Weight: ti.Weight}
}
