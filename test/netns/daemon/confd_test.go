package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/netlab"
)

// TestConfDirectory: havsd runs from a directory of *.hcl files (a conf.d);
// a file dropped in and a reload add its service; a setting only a restart
// can change is reported as such and not applied.
func TestConfDirectory(t *testing.T) {
	p := newPair(t, "100ms")
	dir := filepath.Join(p.dir, "d1.d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// d1's file split in two: VRRP and global, then the service.
	text := p.configText("d1", 150, "", "")
	i := strings.Index(text, "virtual_service")
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-vrrp.hcl", text[:i])
	write("20-web.hcl", text[i:])
	write("README", "not a configuration")
	p.procs["d1"].Stop(5 * time.Second)
	log, err := os.OpenFile(filepath.Join(p.dir, "d1.log"), os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	proc, err := p.topo.Start("d1", "havsd", []string{havsd, "run", "-f", dir}, netlab.ProcOptions{Out: log})
	if err != nil {
		t.Fatal(err)
	}
	p.procs["d1"] = proc
	p.waitMaster("d1")
	if st, err := p.status("d1"); err != nil || len(st.Services) != 1 {
		t.Fatalf("status %+v, %v; want one service", st, err)
	}
	write("30-api.hcl", strings.Replace(strings.Replace(text[i:], `"web"`, `"api"`, 1), ":80", ":81", 1))
	if out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1")); err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	eventually(t, 10*time.Second, "two services", func() bool {
		st, err := p.status("d1")
		return err == nil && len(st.Services) == 2
	})

	// log_level needs a restart: the reload says so and changes nothing else.
	write("10-vrrp.hcl", strings.Replace(text[:i], "global {", "global {\n  log_level = \"debug\"", 1))
	out, err := p.havsdCmd("d1", "reload", "-s", p.socket("d1"))
	if err != nil || !strings.Contains(out, "log_level changed in the file but need a restart") {
		t.Errorf("reload changing log_level: %v\n%s", err, out)
	}
}
