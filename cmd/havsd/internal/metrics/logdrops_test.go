package metrics

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/havsd/havsd/director"
)

func TestLogDropsExported(t *testing.T) {
	m := New(func(context.Context) (director.Status, error) { return director.Status{}, nil })
	n := uint64(7)
	m.WatchLogDrops(func() uint64 { return n })
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "havsd_log_lines_dropped_total 7\n") {
		t.Fatalf("no havsd_log_lines_dropped_total 7 in:\n%s", rec.Body.String())
	}
}
