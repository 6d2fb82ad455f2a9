package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/havsd/havsd/checks"
	"github.com/havsd/havsd/director"
)

// TestCheckOutcomes: a check that timed out counts as outcome="timeout"
// (the alert on checks timing out reads it), other errors as "failure".
func TestCheckOutcomes(t *testing.T) {
	m := New(func(context.Context) (director.Status, error) { return director.Status{}, nil })
	m.ObserveCheck("tcp", time.Millisecond, nil)
	m.ObserveCheck("tcp", time.Second, fmt.Errorf("connecting to 198.51.100.11:80: %w", checks.ErrTimeout))
	m.ObserveCheck("tcp", time.Second, fmt.Errorf("connecting to 198.51.100.12:80: %w", checks.ErrTimeout))
	m.ObserveCheck("tcp", 2*time.Millisecond, errors.New("connection refused"))
	got := scrape(t, m)
	for _, want := range []string{
		`havsd_checks_total{kind="tcp",outcome="success"} 1`,
		`havsd_checks_total{kind="tcp",outcome="timeout"} 2`,
		`havsd_checks_total{kind="tcp",outcome="failure"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s:\n%s", want, got)
		}
	}
}
