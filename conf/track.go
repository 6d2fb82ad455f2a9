package conf

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/havsd/havsd/track"
)

// Defaults of the trackers, as keepalived has them.
const (
	DefaultScriptInterval = time.Second // keepalived's vrrp_script interval
	DefaultScriptRise     = 1
	DefaultScriptFall     = 1
	DefaultProcessQuorum  = 1
)

var scriptSchema = &hcl.BodySchema{
	Attributes: append(attrs("interval", "timeout", "rise", "fall", "weight", "user", "reverse", "init_fail"),
		hcl.AttributeSchema{Name: "command", Required: true}),
}

var trackFileSchema = &hcl.BodySchema{
	Attributes: append(attrs("weight", "reverse"), hcl.AttributeSchema{Name: "path", Required: true}),
}

var trackProcessSchema = &hcl.BodySchema{
	Attributes: append(attrs("match", "quorum", "quorum_max", "delay", "weight", "reverse", "param_match"),
		hcl.AttributeSchema{Name: "name", Required: true}),
}

// trackRefSchema is an instance's or sync group's use of a tracker.
var trackRefSchema = &hcl.BodySchema{Attributes: attrs("weight", "reverse")}

// trackIfSchema is a track_interface block.
var trackIfSchema = &hcl.BodySchema{Attributes: attrs("weight", "reverse")}

// Trackers are the vrrp_script, track_file and track_process blocks, and
// which instances use them.
type Trackers struct {
	Spec track.Spec
	// Refs lists, by vrrp_instance name, the trackers the instance follows
	// (its own and its sync group's) with the weight that applies.
	Refs map[string][]track.Ref
	// Interfaces holds, by instance, the track_interface weights as
	// written (keepalived's signs: > 0 added while up, < 0 added while
	// down, 0 fault while down); vrrp.Config.Track holds their magnitudes.
	Interfaces map[string][]InterfaceWeight
}

// InterfaceWeight is a track_interface with its signed weight.
type InterfaceWeight struct {
	Name   string
	Weight int
	// Reverse turns the adjustment around (keepalived's "weight N
	// reverse"): a positive weight is taken off while the link is up, a
	// negative one added while it is down. Not with weight 0.
	Reverse bool
}

// sign is -1 for a reversed weight, else 1.
func sign(reverse bool) int {
	if reverse {
		return -1
	}
	return 1
}

// Bonus is what an instance's positive track_interface weights add to its
// priority while their interfaces are up; the VRRP instance takes the same
// amount off while one is down, so the priority is base + weight while up
// and base while down, as keepalived has it.
func (t Trackers) Bonus(instance string) int {
	n := 0
	for _, w := range t.Interfaces[instance] {
		if w.Weight > 0 {
			n += w.Weight * sign(w.Reverse)
		}
	}
	return n
}

type rawScript struct {
	b                  *block
	name               string
	command            []string
	interval, timeout  time.Duration
	rise, fall, weight int64
	user               string
	path               string // command[0] resolved, set by validation
	reverse, initFail  bool
}

type rawTrackFile struct {
	b       *block
	name    string
	path    string
	weight  int64
	reverse bool
}

type rawTrackProcess struct {
	b                         *block
	name, process, match      string
	quorum, quorumMax, weight int64
	delay                     time.Duration
	reverse                   bool
	paramMatch                string
}

// rawTrackRef is a track_script, track_file or track_process block inside
// a vrrp_instance or vrrp_sync_group.
type rawTrackRef struct {
	b         *block
	kind      track.Kind
	name      string
	weight    int64
	hasWeight bool
	reverse   bool // used when hasReverse, else the tracker's
	hasRev    bool
}

var refKinds = map[string]track.Kind{"track_script": track.KindScript, "track_file": track.KindFile, "track_process": track.KindProcess}

// trackRef decodes a tracker reference block; ok is false for other blocks.
func (d *decoder) trackRef(hb *hcl.Block) (rawTrackRef, bool) {
	k, ok := refKinds[hb.Type]
	if !ok {
		return rawTrackRef{}, false
	}
	b := d.open(hb, hb.Body, trackRefSchema)
	r := rawTrackRef{b: b, kind: k, name: hb.Labels[0]}
	d.integer(b, "weight", &r.weight)
	r.hasWeight = b.has("weight")
	d.boolean(b, "reverse", &r.reverse)
	r.hasRev = b.has("reverse")
	return r, true
}

func (d *decoder) script(hb *hcl.Block) *rawScript {
	b := d.open(hb, hb.Body, scriptSchema)
	s := &rawScript{b: b, name: hb.Labels[0], interval: DefaultScriptInterval,
		rise: DefaultScriptRise, fall: DefaultScriptFall}
	d.strs(b, "command", &s.command)
	d.dur(b, "interval", &s.interval)
	d.dur(b, "timeout", &s.timeout)
	d.integer(b, "rise", &s.rise)
	d.integer(b, "fall", &s.fall)
	d.integer(b, "weight", &s.weight)
	d.str(b, "user", &s.user)
	d.boolean(b, "reverse", &s.reverse)
	d.boolean(b, "init_fail", &s.initFail)
	if !b.has("timeout") {
		s.timeout = s.interval // keepalived: a script may run for its whole interval
	}
	return s
}

func (d *decoder) trackFile(hb *hcl.Block) *rawTrackFile {
	b := d.open(hb, hb.Body, trackFileSchema)
	f := &rawTrackFile{b: b, name: hb.Labels[0], weight: 1}
	d.str(b, "path", &f.path)
	d.integer(b, "weight", &f.weight)
	d.boolean(b, "reverse", &f.reverse)
	return f
}

func (d *decoder) trackProcess(hb *hcl.Block) *rawTrackProcess {
	b := d.open(hb, hb.Body, trackProcessSchema)
	p := &rawTrackProcess{b: b, name: hb.Labels[0], match: "comm", quorum: DefaultProcessQuorum, weight: 1}
	d.str(b, "name", &p.process)
	d.str(b, "match", &p.match)
	d.integer(b, "quorum", &p.quorum)
	d.integer(b, "quorum_max", &p.quorumMax)
	d.dur(b, "delay", &p.delay)
	d.integer(b, "weight", &p.weight)
	d.boolean(b, "reverse", &p.reverse)
	d.str(b, "param_match", &p.paramMatch)
	return p
}
