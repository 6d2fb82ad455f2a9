package daemon

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/havsd/havsd/netlab"
)

// metricsBody reads a director's /metrics from inside its namespace.
func (p *pair) metricsBody(node string) ([]byte, error) {
	var body []byte
	err := p.topo.Do(node, func() error {
		// Dial here: http.Client would dial on another thread, outside the namespace.
		c, err := net.DialTimeout("tcp", "127.0.0.1:9473", 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprint(c, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err
	})
	return body, err
}

// scrape reads a director's /metrics as metric families.
func (p *pair) scrape(node string) (map[string]*dto.MetricFamily, error) {
	body, err := p.metricsBody(node)
	if err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(bytes.NewReader(body))
}

var metricName = regexp.MustCompile(`\bhavsd_[a-z0-9_]+`)

// queriedMetrics returns the havsd metric names the shipped dashboard and
// alert rules query, histogram series (_bucket, _sum, _count) under their
// family's name.
func queriedMetrics(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, f := range []string{"../../../dist/grafana/havsd.json", "../../../dist/prometheus/havsd-rules.yml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range metricName.FindAllString(string(b), -1) {
			if base, ok := strings.CutSuffix(n, "_bucket"); ok {
				n = base
			}
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	if len(names) < 20 {
		t.Fatalf("found only %d metric names in the dashboard and rules: %v", len(names), names)
	}
	return names
}

// TestDashboardAndAlertMetricsExist: every metric the Grafana dashboard and
// the alert rules query is served by a running director, once the events
// that create per-event series have happened (a health check, a reload, a
// dropped VRRP packet, a BGP neighbour and a service announced by BGP).
func TestDashboardAndAlertMetricsExist(t *testing.T) {
	want := queriedMetrics(t)
	p := newPair(t, "100ms")
	p.writeConfig(netlab.D1, p.configText(netlab.D1, 150, "", `real_server "10.99.0.1:80" {
    check "tcp" {
      interval = "200ms"
      timeout  = "100ms"
    }
  }`)+
		// A BGP speaker with one neighbour that never answers, and a
		// service it announces: the BGP rows and alerts have series.
		`
bgp {
  asn       = 65001
  router_id = "10.99.0.11"
  neighbor "10.99.0.254" {
    asn = 65000
  }
}

virtual_service "bgp-web" {
  protocol = "tcp"
  address  = "10.99.0.200:80"
  announce = "bgp"
  real_server "10.99.0.1:80" {}
}
`)
	if out, err := p.havsdCmd(netlab.D1, "reload", "-s", p.socket(netlab.D1)); err != nil {
		t.Fatalf("havsd reload: %v: %s", err, out)
	}
	// A VRRP packet with TTL 64 from the client: d1 drops and counts it.
	err := p.topo.Do(netlab.Client, func() error {
		c, err := net.Dial("ip4:112", netlab.DirectorIP(0).String())
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write(make([]byte, 40))
		return err
	})
	if err != nil {
		t.Fatalf("sending a VRRP packet with TTL 64: %v", err)
	}
	var missing []string
	for deadline := time.Now().Add(20 * time.Second); ; {
		families, err := p.scrape(netlab.D1)
		if err != nil {
			missing = []string{"(scrape failed: " + err.Error() + ")"}
		} else {
			missing = missing[:0]
			for _, n := range want {
				if families[n] == nil {
					missing = append(missing, n)
				}
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // polling interval; the deadline bounds the wait
	}
	if len(missing) > 0 {
		t.Errorf("the dashboard or alert rules query metrics d1 does not serve after 20 s: %v", missing)
	}
}
