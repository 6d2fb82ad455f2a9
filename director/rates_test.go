package director

import (
	"io"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/havsd/havsd/conf"
	"github.com/havsd/havsd/lvs"
)

// fullExample loads examples/full.hcl, the configuration with every feature.
func fullExample(t *testing.T) *conf.Config {
	t.Helper()
	cfg, _, diags := conf.Load("../examples/full.hcl")
	if cfg == nil {
		t.Fatal(diags)
	}
	return cfg
}

// TestServiceStatusRates: a service's and a real server's counters and the
// kernel's rate estimates reach the status as read from the table.
func TestServiceStatusRates(t *testing.T) {
	cfg := fullExample(t)
	d := New(cfg, "full.hcl", Deps{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	vs := &cfg.Services[0]
	rs := vs.Reals[0].Dest
	rs.Stats = lvs.Stats{Conns: 10, PacketsIn: 20, PacketsOut: 30, BytesIn: 400, BytesOut: 500, CPS: 1, PPSIn: 2, PPSOut: 3, BPSIn: 40, BPSOut: 50}
	obs := vs.Service
	obs.Destinations = []lvs.Destination{rs}
	obs.Stats = lvs.Stats{Conns: 11, PacketsIn: 21, PacketsOut: 31, BytesIn: 401, BytesOut: 501, CPS: 6, PPSIn: 7, PPSOut: 8, BPSIn: 90, BPSOut: 100}
	ss := d.serviceStatus(vs, map[lvs.ServiceKey]lvs.Service{obs.Key: obs}, nil)
	if diff := cmp.Diff(Rates{Conns: 6, PacketsIn: 7, PacketsOut: 8, BytesIn: 90, BytesOut: 100}, ss.Rates); diff != "" {
		t.Errorf("service rates (-want +got):\n%s", diff)
	}
	if ss.Conns != 11 || ss.BytesOut != 501 {
		t.Errorf("service counters: conns %d, bytes out %d; want 11, 501", ss.Conns, ss.BytesOut)
	}
	r := ss.Reals[0]
	if diff := cmp.Diff(Rates{Conns: 1, PacketsIn: 2, PacketsOut: 3, BytesIn: 40, BytesOut: 50}, r.Rates); diff != "" {
		t.Errorf("real server %s rates (-want +got):\n%s", r.Address, diff)
	}
	if r.PacketsIn != 20 || r.PacketsOut != 30 || r.Conns != 10 {
		t.Errorf("real server counters: %+v", r)
	}
}
