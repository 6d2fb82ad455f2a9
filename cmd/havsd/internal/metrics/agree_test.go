package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/director"
)

// TestJSONAndMetricsAgree: what status --json says and what /metrics says
// are the same facts, from a fresh director on: no reload yet is no reload
// outcome in either, and a real server without a check result yet has no
// up value in either.
func TestJSONAndMetricsAgree(t *testing.T) {
	fresh := director.Status{
		RouterID: "d1", Started: time.Unix(1700000000, 0),
		Instances: []director.InstanceStatus{{Name: "VI_1", VRID: 51, State: "init"}},
		Services: []director.ServiceStatus{{Key: "tcp 10.0.0.1:80", Reals: []director.RealStatus{
			{Address: "10.0.1.1:80", Health: "unknown"}, {Address: "10.0.1.2:80", Health: "unchecked"}}}},
	}
	reloaded := fresh
	reloaded.LastReload = director.ReloadStatus{At: time.Unix(1700000100, 0), OK: true, Count: 1}
	reloaded.Instances = []director.InstanceStatus{{Name: "VI_1", VRID: 51, State: "master"}}
	reloaded.Services = []director.ServiceStatus{{Key: "tcp 10.0.0.1:80", Reals: []director.RealStatus{
		{Address: "10.0.1.1:80", Health: "down"}, {Address: "10.0.1.2:80", Health: "up"}}}}
	rejected := reloaded
	rejected.LastReload = director.ReloadStatus{At: time.Unix(1700000200, 0), OK: false, Count: 2}

	for name, st := range map[string]director.Status{"fresh": fresh, "reloaded": reloaded, "rejected": rejected} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				LastReload *struct {
					At    time.Time `json:"at"`
					OK    bool      `json:"ok"`
					Count int       `json:"count"`
				} `json:"last_reload"`
				Instances []struct {
					Name  string `json:"name"`
					State string `json:"state"`
				} `json:"instances"`
				Services []struct {
					Key   string `json:"key"`
					Reals []struct {
						Address string `json:"address"`
						Health  string `json:"health"`
					} `json:"reals"`
				} `json:"services"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			text := scrape(t, New(func(context.Context) (director.Status, error) { return st, nil }))
			series := map[string]string{}
			for line := range strings.Lines(text) {
				if !strings.HasPrefix(line, "#") {
					line = strings.TrimSpace(line)
					i := strings.LastIndexByte(line, ' ') // label values hold spaces
					series[line[:i]] = line[i+1:]
				}
			}
			want := map[string]string{}
			if r := doc.LastReload; r != nil {
				want["havsd_last_reload_success"] = map[bool]string{true: "1", false: "0"}[r.OK]
				want["havsd_last_reload_timestamp_seconds"] = fmt.Sprint(float64(r.At.UnixNano()) / 1e9)
				want["havsd_reloads_total"] = fmt.Sprint(r.Count)
			} else {
				want["havsd_last_reload_success"] = ""
				want["havsd_last_reload_timestamp_seconds"] = ""
				want["havsd_reloads_total"] = "0"
			}
			for _, in := range doc.Instances {
				for _, s := range director.InstanceStates() {
					want[fmt.Sprintf(`havsd_vrrp_state{state=%q,vrid="51",vrrp_instance=%q}`, s, in.Name)] = map[bool]string{true: "1", false: "0"}[s == in.State]
				}
			}
			for _, s := range doc.Services {
				for _, r := range s.Reals {
					k := fmt.Sprintf(`havsd_real_up{real=%q,service=%q}`, r.Address, s.Key)
					want[k] = map[string]string{"unknown": "", "down": "0", "up": "1", "unchecked": "1"}[r.Health]
				}
			}
			for k, v := range want {
				if got := series[k]; got != v {
					t.Errorf("%s = %q in /metrics, want %q to agree with status --json:\n%s", k, got, v, b)
				}
			}
		})
	}
}
