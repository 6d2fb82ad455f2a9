package lvs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// render prints destinations as "addr:port=weight" in order.
func render(ds []Destination) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%s=%d", d.Key(), d.Weight))
	}
	return strings.Join(parts, " ")
}

func TestApplyWeights(t *testing.T) {
	rs := func(n int, healthy bool, inhibit bool) Real {
		return Real{Dest: dst(fmt.Sprintf("10.0.0.%d", n), 80, n, Masq), Healthy: healthy, Inhibit: inhibit}
	}
	sorry := dst("10.0.9.9", 80, 0, Masq)
	tests := []struct {
		name  string
		pool  Pool
		prev  QuorumState
		want  string
		state QuorumState
	}{
		{"all healthy", Pool{Reals: []Real{rs(1, true, false), rs(2, true, false)}}, QuorumUnknown, "10.0.0.1:80=1 10.0.0.2:80=2", QuorumUp},
		{"failed is removed", Pool{Reals: []Real{rs(1, false, false), rs(2, true, false)}}, QuorumUp, "10.0.0.2:80=2", QuorumUp},
		{"failed with inhibit_on_failure drains at 0", Pool{Reals: []Real{rs(1, false, true), rs(2, true, false)}}, QuorumUp, "10.0.0.1:80=0 10.0.0.2:80=2", QuorumUp},
		{"all down without sorry: quorum lost, nothing left", Pool{Reals: []Real{rs(1, false, false)}}, QuorumUp, "", QuorumLost},
		{"all down with sorry: sorry in at weight 1", Pool{Reals: []Real{rs(1, false, true)}, Sorry: &sorry}, QuorumUp, "10.0.0.1:80=0 10.0.9.9:80=1", QuorumLost},
		{"sorry_server_inhibit keeps it at 0 while up", Pool{Reals: []Real{rs(1, true, false)}, Sorry: &sorry, SorryInhibit: true}, QuorumUp, "10.0.0.1:80=1 10.0.9.9:80=0", QuorumUp},
		{"quorum lost with sorry: healthy servers leave", Pool{Reals: []Real{rs(1, true, false), rs(2, false, false)}, Sorry: &sorry, Quorum: 3}, QuorumUp, "10.0.9.9:80=1", QuorumLost},
		{"quorum lost without sorry: healthy servers stay", Pool{Reals: []Real{rs(1, true, false), rs(2, false, false)}, Quorum: 3}, QuorumUp, "10.0.0.1:80=1", QuorumLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, state := tt.pool.Destinations(tt.prev)
			if render(got) != tt.want || state != tt.state {
				t.Errorf("Destinations() = %q, %s; want %q, %s", render(got), state, tt.want, tt.state)
			}
		})
	}
}

func TestApplyQuorumHysteresis(t *testing.T) {
	// Four servers of weight 1, quorum 3, hysteresis 1: lost below 2,
	// regained at 4.
	sorry := dst("10.0.9.9", 80, 5, Masq)
	pool := func(healthy int) Pool {
		p := Pool{Sorry: &sorry, Quorum: 3, Hysteresis: 1}
		for i := range 4 {
			p.Reals = append(p.Reals, Real{Dest: dst(fmt.Sprintf("10.0.0.%d", i+1), 80, 1, Masq), Healthy: i < healthy})
		}
		return p
	}
	script := []struct {
		healthy int
		state   QuorumState
		sorry   bool
	}{
		{4, QuorumUp, false},
		{3, QuorumUp, false},
		{2, QuorumUp, false}, // 2 >= 3-1: still up
		{1, QuorumLost, true},
		{2, QuorumLost, true}, // back to 2: not enough to regain
		{3, QuorumLost, true}, // 3 < 3+1
		{4, QuorumUp, false},  // 4 >= 3+1
		{2, QuorumUp, false},
		{0, QuorumLost, true},
	}
	var state QuorumState
	var got []string
	var want []string
	for _, st := range script {
		var ds []Destination
		ds, state = pool(st.healthy).Destinations(state)
		sorryIn := len(ds) == 1 && ds[0].Key() == sorry.Key() && ds[0].Weight == 5
		got = append(got, fmt.Sprintf("%d healthy: %s sorry=%v", st.healthy, state, sorryIn))
		want = append(want, fmt.Sprintf("%d healthy: %s sorry=%v", st.healthy, st.state, st.sorry))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("quorum script (-want +got):\n%s", diff)
	}
}
