package keepalived

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/havsd/havsd/conf"
)

// HCL writes the whole configuration as one file, formatted by conf.Format,
// each block preceded by a comment naming the keepalived line it came from.
func (r *Result) HCL() []byte {
	return r.write(r.Config)
}

// File is one file of a conf.d directory.
type File struct {
	Name string
	Data []byte
}

// Files splits the configuration into a conf.d: vrrp.hcl with the global
// settings, VRRP instances and sync groups, and one file per virtual
// service, named after it.
func (r *Result) Files() []File {
	var out []File
	v := *r.Config
	v.Services, v.Marks = nil, nil
	if len(v.Instances) > 0 || len(v.SyncGroups) > 0 || r.Origins["global"] != (Pos{}) {
		out = append(out, File{Name: "vrrp.hcl", Data: r.write(&v)})
	}
	done := map[string]bool{}
	for _, s := range r.Config.Services {
		if s.GroupService != "" && done[s.GroupService] {
			continue
		}
		// The global block lives in vrrp.hcl only.
		one := &conf.Config{Global: r.global, Services: []conf.VirtualService{s}}
		name := s.Name
		if s.GroupService != "" {
			// A group's members, and the group, in one file.
			done[s.GroupService], name, one.Services = true, s.GroupService, nil
			for _, m := range r.Config.Services {
				if m.GroupService == s.GroupService {
					one.Services = append(one.Services, m)
				}
			}
			for _, g := range r.Config.ServiceGroups {
				if g.Name == s.Group {
					one.ServiceGroups = append(one.ServiceGroups, g)
				}
			}
		}
		for _, m := range r.Config.Marks {
			if slices.ContainsFunc(one.Services, func(x conf.VirtualService) bool {
				return x.Service.Key.FWMark != 0 && m.Mark == x.Service.Key.FWMark
			}) {
				one.Marks = append(one.Marks, m)
			}
		}
		out = append(out, File{Name: "service-" + fileName(name) + ".hcl", Data: r.write(one)})
	}
	return out
}

func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func (r *Result) write(cfg *conf.Config) []byte {
	header := fmt.Sprintf("# Converted from the keepalived configuration %s by havsd import.\n\n", r.Source)
	return append([]byte(header), r.annotate(conf.Format(cfg))...)
}

// annotate puts "# from FILE:LINE" above every block whose origin is known.
func (r *Result) annotate(src []byte) []byte {
	f, diags := hclsyntax.ParseConfig(src, "out.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return src
	}
	notes := map[int]string{} // line (1-based) -> origin
	var walk func(prefix string, body *hclsyntax.Body)
	walk = func(prefix string, body *hclsyntax.Body) {
		for _, b := range body.Blocks {
			key := b.Type
			if len(b.Labels) > 0 {
				key += "/" + b.Labels[0]
			}
			if prefix != "" {
				key = prefix + "/" + key
			}
			if p, ok := r.Origins[key]; ok {
				notes[b.TypeRange.Start.Line] = p.String()
			}
			if prefix == "" {
				walk(key, b.Body)
			}
		}
	}
	walk("", f.Body.(*hclsyntax.Body))
	lines := strings.SplitAfter(string(src), "\n")
	var b strings.Builder
	for i, l := range lines {
		if at, ok := notes[i+1]; ok {
			indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
			fmt.Fprintf(&b, "%s# from %s\n", indent, at)
		}
		b.WriteString(l)
	}
	return []byte(b.String())
}
