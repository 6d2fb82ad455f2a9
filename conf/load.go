package conf

import (
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
)

// Source keeps the parsed files of a configuration so that diagnostics can
// quote them.
type Source struct {
	files map[string]*hcl.File
}

// Files returns the parsed files by name, as hcl's diagnostic writers want.
func (s *Source) Files() map[string]*hcl.File {
	if s == nil {
		return nil
	}
	return s.files
}

// Load reads, validates and compiles the configuration file at path, or
// every *.hcl file of the directory at path, in name order (confd.go). The
// Config is nil when diags has errors; diags may hold warnings either way.
func Load(path string) (*Config, *Source, hcl.Diagnostics) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return loadDir(path)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &Source{files: map[string]*hcl.File{}}, hcl.Diagnostics{{
			Severity: hcl.DiagError, Summary: "Cannot read configuration",
			Detail: fmt.Sprintf("Reading %s: %v.", path, err)}}
	}
	return LoadBytes(path, src)
}

// LoadBytes is Load for a configuration held in memory; name is used in
// diagnostics.
func LoadBytes(name string, src []byte) (*Config, *Source, hcl.Diagnostics) {
	file, pre, diags := parseHCL(src, name)
	source := &Source{files: map[string]*hcl.File{name: file}}
	if diags.HasErrors() || file == nil {
		source.slim(nil)
		return nil, source, diags
	}
	return finishPre(source, file.Body, diags, pre)
}

// finish decodes, validates and compiles a parsed configuration.
func finish(source *Source, body hcl.Body, diags hcl.Diagnostics) (*Config, *Source, hcl.Diagnostics) {
	return finishPre(source, body, diags, nil)
}

// finishPre is finish for a file parsed in pieces whose services pre holds
// already decoded (parse.go).
func finishPre(source *Source, body hcl.Body, diags hcl.Diagnostics, pre []predecoded) (*Config, *Source, hcl.Diagnostics) {
	d := &decoder{}
	raw := d.file(body)
	if pre != nil {
		var services []*rawService
		for i := range pre {
			services = append(services, pre[i].services...)
			diags = append(diags, pre[i].diags...)
			pre[i].services = nil // held once, in raw (compile lets go of them)
		}
		raw.services = append(services, raw.services...)
	}
	diags = append(diags, d.diags...)
	diags = append(diags, expandServiceGroups(raw)...)
	diags = append(diags, validate(raw)...)
	// Group members and url blocks share settings: a mistake in one is
	// found once per member or url.
	diags = dedupeDiagnostics(diags)
	sortDiagnostics(diags)
	if diags.HasErrors() {
		source.slim(pre)
		return nil, source, diags
	}
	cfg := compile(raw)
	source.slim(pre)
	return cfg, source, diags
}
