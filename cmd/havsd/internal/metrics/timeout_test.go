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

// TestVIPGauges: the VIP drift and peer mismatch the status reports reach
// the gauges the VIP alerts read.
func TestVIPGauges(t *testing.T) {
	m := New(func(context.Context) (director.Status, error) {
		return director.Status{Instances: []director.InstanceStatus{{
			Name: "VI_1", VRID: 51, State: "master",
			MissingVIPs: []string{"192.0.2.10/24", "192.0.2.11/24"}, UnexpectedVIPs: []string{"192.0.2.12/24"},
			PeerVIPMismatch: []director.PeerMismatch{{Peer: "10.0.0.2", VIPs: []string{"192.0.2.99/24"}}},
		}}}, nil
	})
	got := scrape(t, m)
	for _, want := range []string{
		`havsd_vrrp_vips_missing{vrid="51",vrrp_instance="VI_1"} 2`,
		`havsd_vrrp_vips_unexpected{vrid="51",vrrp_instance="VI_1"} 1`,
		`havsd_vrrp_peer_vip_mismatch{vrid="51",vrrp_instance="VI_1"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}
