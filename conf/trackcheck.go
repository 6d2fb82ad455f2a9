package conf

import (
	"errors"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/havsd/havsd/track"
)

// trackers validates the tracker blocks and their uses. Like keepalived's
// enable_script_security (always on here), it refuses a script a non-root
// user could modify and checks that script users exist; these look at the
// host, so `havsd check` must run where the daemon will.
func (v *validator) trackers(f *rawFile) {
	known := map[track.Key]*block{}
	var names = map[track.Kind][]string{}
	declare := func(k track.Key, b *block) {
		if first, dup := known[k]; dup {
			v.errorf(b.labelAt(), "Duplicate "+k.Kind.String(), "A %s named %q is already defined at %s.", k.Kind, k.Name, pos(first.labelAt()))
			return
		}
		known[k] = b
		names[k.Kind] = append(names[k.Kind], k.Name)
	}
	for _, s := range f.scripts {
		declare(track.Key{Kind: track.KindScript, Name: s.name}, s.b)
		v.script(s)
	}
	for _, t := range f.trackFiles {
		declare(track.Key{Kind: track.KindFile, Name: t.name}, t.b)
		v.trackFile(t)
	}
	for _, p := range f.trackProcs {
		declare(track.Key{Kind: track.KindProcess, Name: p.name}, p.b)
		v.trackProcess(p)
	}
	v.scriptUser(f)
	v.fileChecks(f, names[track.KindFile]) // filecheck.go
	inGroup := map[string]*rawGroup{}
	for _, g := range f.groups {
		for _, n := range g.instances {
			inGroup[n] = g
		}
		v.trackRefs(g.trackRefs, known, names, nil)
	}
	for _, in := range f.instances {
		var groupRefs []rawTrackRef
		if g := inGroup[in.name]; g != nil {
			groupRefs = g.trackRefs
		}
		v.trackRefs(in.trackRefs, known, names, groupRefs)
	}
}

func (v *validator) trackRefs(refs []rawTrackRef, known map[track.Key]*block, names map[track.Kind][]string, group []rawTrackRef) {
	seen := map[track.Key]bool{}
	for _, r := range group {
		seen[track.Key{Kind: r.kind, Name: r.name}] = true
	}
	for _, r := range refs {
		k := track.Key{Kind: r.kind, Name: r.name}
		block := map[track.Kind]string{track.KindScript: "track_script", track.KindFile: "track_file", track.KindProcess: "track_process"}[r.kind]
		switch {
		case known[k] == nil:
			v.errorf(r.b.labelAt(), "Unknown "+r.kind.String(), "No %s is named %q.%s", r.kind, r.name, didYouMean(r.name, names[r.kind]))
		case seen[k]:
			v.errorf(r.b.labelAt(), "Duplicate "+block, "%s %q is already tracked here or by the sync group.", r.kind, r.name)
		}
		seen[k] = true
		if r.hasWeight {
			v.weight(r.b, r.kind, r.weight)
		}
	}
}

// weight checks a tracker weight against keepalived's range for its kind.
func (v *validator) weight(b *block, k track.Kind, w int64) {
	lim := int64(253) // keepalived: vrrp_script -253..253, track_file and track_process -254..254
	if k != track.KindScript {
		lim = 254
	}
	if w < -lim || w > lim {
		v.errorf(b.at("weight"), "Invalid weight", "weight must be %d to %d (> 0: added while passing, < 0: added while failing, 0: FAULT while failing), not %d.", -lim, lim, w)
	}
}

func (v *validator) script(s *rawScript) {
	b := s.b
	if b.has("command") {
		switch {
		case len(s.command) == 0 || s.command[0] == "":
			v.errorf(b.at("command"), "Empty command", `command is an argv list starting with the program, e.g. ["/usr/bin/pidof", "haproxy"]; it never runs a shell.`)
		default:
			path, err := exec.LookPath(s.command[0])
			if err == nil && !filepath.IsAbs(path) {
				path, err = filepath.Abs(path)
			}
			if err != nil {
				v.errorf(elemAt(b, "command", 0), "Script not found", "%s: %v.", s.command[0], errors.Unwrap(err))
				break
			}
			if err := track.CheckScriptPath(path); err != nil {
				v.errorf(elemAt(b, "command", 0), "Insecure script", "havsd runs only scripts that no user but root can modify: %v.", err)
			}
			s.path = path
		}
	}
	if s.interval <= 0 {
		v.errorf(b.at("interval"), "Invalid interval", "interval must be positive.")
	}
	if b.has("timeout") && s.timeout <= 0 {
		v.errorf(b.at("timeout"), "Invalid timeout", "timeout must be positive.")
	}
	for _, n := range []string{"rise", "fall"} {
		if val := map[string]int64{"rise": s.rise, "fall": s.fall}[n]; val < 1 || val > 1000 {
			v.errorf(b.at(n), "Invalid "+n, "%s must be 1-1000, not %d.", n, val)
		}
	}
	v.weight(b, track.KindScript, s.weight)
	if b.has("user") {
		v.user(b.at("user"), s.user)
	}
}

func (v *validator) user(at *hcl.Range, name string) {
	if name == "" {
		v.errorf(at, "Empty user", "Name a user, or remove the attribute.")
		return
	}
	if _, err := track.LookupUser(name); err != nil {
		v.errorf(at, "Unknown user", "Scripts cannot run as %q: %v.", name, err)
	}
}

// scriptUser checks the global script_user, or says that scripts will run
// as root when neither it nor the default script user exists.
func (v *validator) scriptUser(f *rawFile) {
	g := f.global
	if g.b.has("script_user") {
		v.user(g.b.at("script_user"), g.scriptUser)
		return
	}
	for _, s := range f.scripts {
		if s.b.has("user") {
			continue
		}
		if _, err := track.LookupUser(track.DefaultScriptUser); err != nil {
			v.warnf(s.b.labelAt(), "Script runs as root", "Neither global script_user nor this script's user is set, and the default script user %q does not exist (%v): the script runs as root. Create that user or set script_user.", track.DefaultScriptUser, err)
		}
		return
	}
}

func (v *validator) trackFile(t *rawTrackFile) {
	if t.b.has("path") && !filepath.IsAbs(t.path) {
		v.errorf(t.b.at("path"), "Invalid path", "%q is not an absolute path.", t.path)
	}
	v.weight(t.b, track.KindFile, t.weight)
}

func (v *validator) trackProcess(p *rawTrackProcess) {
	b := p.b
	matchOK := v.oneOf(b, "match", p.match, []string{"comm", "args"})
	switch {
	case b.has("name") && p.process == "":
		v.errorf(b.at("name"), "Empty process name", "name is the process's name (its comm), or its full command line with match = \"args\".")
	case matchOK && p.match == "comm" && len(p.process) > 15:
		v.errorf(b.at("name"), "Process name too long", "The kernel keeps 15 bytes of a process name (comm); %q can never match. Write %q, or match = \"args\" with the full command line.", p.process, p.process[:15])
	}
	if p.quorum < 1 || p.quorum > 65535 {
		v.errorf(b.at("quorum"), "Invalid quorum", "quorum must be 1-65535, not %d.", p.quorum)
	}
	if b.has("quorum_max") && (p.quorumMax < p.quorum || p.quorumMax > 65535) {
		v.errorf(b.at("quorum_max"), "Invalid quorum_max", "quorum_max must be at least quorum (%d) and at most 65535, not %d.", p.quorum, p.quorumMax)
	}
	v.weight(b, track.KindProcess, p.weight)
	if b.has("param_match") && v.oneOf(b, "param_match", p.paramMatch, []string{"exact", "partial", "initial"}) && matchOK && p.match != "args" {
		v.errorf(b.at("param_match"), "param_match without match = \"args\"", "param_match compares the command line: set match = \"args\" and name the command with its arguments.")
	}
}

var paramMatches = map[string]track.ParamMatch{"": track.ParamExact, "exact": track.ParamExact, "partial": track.ParamPartial, "initial": track.ParamInitial}

// compileTrackers builds the trackers' model from a validated file.
func compileTrackers(f *rawFile) Trackers {
	var t Trackers
	weights := map[track.Key]int{}
	reverse, initFail := map[track.Key]bool{}, map[track.Key]bool{}
	for _, s := range f.scripts {
		argv := slices.Clone(s.command)
		argv[0] = s.path
		user := s.user
		if user == "" {
			user = scriptUser(f.global.scriptUser)
		}
		t.Spec.Scripts = append(t.Spec.Scripts, track.Script{Name: s.name, Argv: argv, Interval: s.interval,
			Timeout: s.timeout, Rise: int(s.rise), Fall: int(s.fall), User: user, InitFail: s.initFail})
		k := track.Key{Kind: track.KindScript, Name: s.name}
		weights[k], reverse[k], initFail[k] = int(s.weight), s.reverse, s.initFail
	}
	for _, x := range f.trackFiles {
		t.Spec.Files = append(t.Spec.Files, track.File{Name: x.name, Path: x.path})
		k := track.Key{Kind: track.KindFile, Name: x.name}
		weights[k], reverse[k] = int(x.weight), x.reverse
	}
	for _, p := range f.trackProcs {
		t.Spec.Processes = append(t.Spec.Processes, track.Process{Name: p.name, Match: p.process, Args: p.match == "args",
			ParamMatch: paramMatches[p.paramMatch], Quorum: int(p.quorum), QuorumMax: int(p.quorumMax), Delay: p.delay})
		k := track.Key{Kind: track.KindProcess, Name: p.name}
		weights[k], reverse[k] = int(p.weight), p.reverse
	}
	resolve := func(r rawTrackRef) track.Ref {
		k := track.Key{Kind: r.kind, Name: r.name}
		w, rev := weights[k], reverse[k]
		if r.hasWeight {
			w = int(r.weight)
		}
		if r.hasRev {
			rev = r.reverse
		}
		return track.Ref{Key: k, Weight: w, Reverse: rev, InitFail: initFail[k]}
	}
	inGroup := map[string]*rawGroup{}
	for _, g := range f.groups {
		for _, n := range g.instances {
			inGroup[n] = g
		}
	}
	for _, in := range f.instances {
		var refs []track.Ref
		for _, r := range in.trackRefs {
			refs = append(refs, resolve(r))
		}
		if g := inGroup[in.name]; g != nil {
			for _, r := range g.trackRefs {
				refs = append(refs, resolve(r))
			}
		}
		if len(refs) > 0 {
			if t.Refs == nil {
				t.Refs = map[string][]track.Ref{}
			}
			t.Refs[in.name] = refs
		}
		for _, tr := range in.track {
			if t.Interfaces == nil {
				t.Interfaces = map[string][]InterfaceWeight{}
			}
			t.Interfaces[in.name] = append(t.Interfaces[in.name], InterfaceWeight{Name: tr.name, Weight: int(tr.weight), Reverse: tr.reverse})
		}
	}
	return t
}
