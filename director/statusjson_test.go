package director

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestStatusJSONFresh: a fresh director's status has [] for its lists and
// no zero timestamps.
func TestStatusJSONFresh(t *testing.T) {
	st := Status{RouterID: "d1", Started: time.Unix(1700000000, 0).UTC(),
		Services:  []ServiceStatus{{Name: "web", Reals: []RealStatus{{Address: "10.0.0.1:80", Health: "up"}}}},
		Instances: []InstanceStatus{{Name: "VI_1", State: "init"}}}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.Contains(text, `"last_reload":null`) {
		t.Errorf("status JSON of a director never reloaded has a last_reload:\n%s", text)
	}
	text = strings.Replace(text, `"last_reload":null`, "", 1)
	for _, bad := range []string{"null", "0001-01-01"} {
		if strings.Contains(text, bad) {
			t.Errorf("status JSON holds %s:\n%s", bad, text)
		}
	}
	for _, want := range []string{`"vips":[]`, `"held_vips":[]`, `"started":"2023-11-14T22:13:20Z"`, `"programmed":false`, `"kernel_weight":0`} {
		if !strings.Contains(text, want) {
			t.Errorf("status JSON lacks %s:\n%s", want, text)
		}
	}
	var back Status
	if err := json.Unmarshal(b, &back); err != nil || back.Services[0].Reals[0].Health != "up" || !back.Started.Equal(st.Started) {
		t.Errorf("status JSON does not decode back: %v %+v", err, back)
	}
}
