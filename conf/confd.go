package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// loadDir loads a configuration split across the *.hcl files of a
// directory, as a conf.d: the files are read in name order and taken as one
// configuration, so a service or instance may live in any file, a name
// defined in two files is a duplicate, and every diagnostic names its file.
// Other files (editor backups, *.hcl.disabled) are ignored.
func loadDir(dir string) (*Config, *Source, hcl.Diagnostics) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, &Source{files: map[string]*hcl.File{}}, hcl.Diagnostics{{
			Severity: hcl.DiagError, Summary: "Cannot read configuration",
			Detail: fmt.Sprintf("Reading directory %s: %v.", dir, err)}}
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".hcl") && !strings.HasPrefix(e.Name(), ".") && !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	p := hclparse.NewParser()
	if len(names) == 0 {
		return nil, &Source{files: p.Files()}, hcl.Diagnostics{{
			Severity: hcl.DiagError, Summary: "No configuration files",
			Detail: fmt.Sprintf("The directory %s holds no *.hcl file.", dir)}}
	}
	var diags hcl.Diagnostics
	var files []*hcl.File
	for _, n := range names {
		path := filepath.Join(dir, n)
		src, err := os.ReadFile(path)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read configuration",
				Detail: fmt.Sprintf("Reading %s: %v.", path, err)})
			continue
		}
		f, ds := p.ParseHCL(src, path)
		diags = append(diags, ds...)
		if f != nil {
			files = append(files, f)
		}
	}
	source := &Source{files: p.Files()}
	if diags.HasErrors() {
		return nil, source, diags
	}
	return finish(source, hcl.MergeFiles(files), diags)
}
