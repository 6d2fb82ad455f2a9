// Package dist holds what ships beside the binary (unit, package builder,
// dashboards, alert rules); its tests check those files.
package dist

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/havsd/havsd/test/need"
)

// dashboard is the part of Grafana's dashboard model the checks read.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name, Type string
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Datasource *struct {
		Type, UID string
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// TestDashboardJSON checks that the dashboard is a Grafana dashboard whose
// panels all query the selected Prometheus, fit the 24-column grid, and
// have unique ids.
func TestDashboardJSON(t *testing.T) {
	b, err := os.ReadFile("grafana/havsd.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("grafana/havsd.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 30 || len(d.Panels) == 0 {
		t.Fatalf("not a dashboard: title %q uid %q schemaVersion %d, %d panels", d.Title, d.UID, d.SchemaVersion, len(d.Panels))
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	for _, v := range []string{"datasource", "job", "instance"} {
		if !vars[v] {
			t.Errorf("no template variable $%s", v)
		}
	}
	ids := map[int]bool{}
	queries := 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not query the selected data source", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			queries++
			if q.RefID == "" || !strings.Contains(q.Expr, "havsd_") {
				t.Errorf("panel %q: query %q (refId %q) reads no havsd metric", p.Title, q.Expr, q.RefID)
			}
			if strings.Contains(q.Expr, "havsd_") && !strings.Contains(q.Expr, `instance=~"$instance"`) && !strings.Contains(q.Expr, "count by (vrid)") {
				t.Errorf("panel %q: query %q ignores the $instance selector", p.Title, q.Expr)
			}
		}
	}
	t.Logf("%d panels, %d queries", len(d.Panels), queries)
}

// TestAlertRules runs promtool over the rules and their unit tests (one
// firing and one silent case per alert).
func TestAlertRules(t *testing.T) {
	need.Binaries(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "havsd-rules.yml"},
		{"test", "rules", "havsd-rules.test.yml"},
	} {
		cmd := exec.Command("promtool", args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestEveryAlertIsTested checks that each alert of the rules file has a
// case in the promtool test file.
func TestEveryAlertIsTested(t *testing.T) {
	rules, err := os.ReadFile("prometheus/havsd-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("prometheus/havsd-rules.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(rules)) {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "- alert: ")
		if !ok {
			continue
		}
		n++
		if !strings.Contains(string(tests), "alertname: "+name+"\n") {
			t.Errorf("alert %s has no promtool test case", name)
		}
	}
	if n < 7 {
		t.Errorf("found %d alerts, want at least the 7 the issue lists", n)
	}
}
