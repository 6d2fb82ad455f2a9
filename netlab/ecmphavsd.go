package netlab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ECMPHavsd is the havsd configuration of one director of the ECMP layout:
// a bgp block with the router as neighbour and one service on the VIP,
// announced over BGP and checked on every real server.
type ECMPHavsd struct {
	Director int    // 0-based
	Socket   string // control socket
	HoldTime time.Duration
	// CheckInterval is the real servers' HTTP check interval; a real
	// server is down after two failed checks (retry 1, half an interval
	// apart).
	CheckInterval time.Duration
	Reals         int
	Extra         []ECMPNeighbor // more neighbours beyond the router
}

// ECMPNeighbor is a BGP neighbour of a director beyond the router.
type ECMPNeighbor struct {
	Address string
	ASN     uint32
	Port    int // 0: 179
}

// String renders the HCL.
func (c ECMPHavsd) String() string {
	var b strings.Builder
	name := ECMPDirectorName(c.Director)
	fmt.Fprintf(&b, "# ECMP lab: director %s\n", name)
	fmt.Fprintf(&b, "global {\n  router_id      = %q\n  control_socket = %q\n  log_level      = \"info\"\n  log_format     = \"json\"\n}\n\n", "lab-"+name, c.Socket)
	fmt.Fprintf(&b, "bgp {\n  asn       = %d\n  router_id = %q\n", ECMPDirectorASN, ECMPDirectorIP(c.Director))
	neighbor := func(addr string, asn uint32, port int) {
		fmt.Fprintf(&b, "\n  neighbor %q {\n    asn       = %d\n    hold_time = %q\n", addr, asn, c.HoldTime.String())
		if port != 0 {
			fmt.Fprintf(&b, "    port      = %d\n", port)
		}
		b.WriteString("  }\n")
	}
	neighbor(ECMPRouterIP.String(), ECMPRouterASN, 0)
	for _, n := range c.Extra {
		neighbor(n.Address, n.ASN, n.Port)
	}
	b.WriteString("}\n\n")
	fmt.Fprintf(&b, "virtual_service \"web\" {\n  protocol  = \"tcp\"\n  address   = \"%s:80\"\n  announce  = \"bgp\"\n  forward   = \"dr\"\n  quorum    = 1\n", ECMPVIP)
	b.WriteString("  inhibit_on_failure = true\n\n")
	fmt.Fprintf(&b, "  check \"http\" {\n    interval = %q\n    timeout  = %q\n    retry    = 1\n    delay_before_retry = %q\n    path     = \"/\"\n    status   = [\"200-299\"]\n  }\n",
		c.CheckInterval.String(), (c.CheckInterval * 2 / 3).String(), (c.CheckInterval / 2).String())
	for r := 0; r < c.Reals; r++ {
		fmt.Fprintf(&b, "\n  real_server \"%s:80\" {\n    weight = 1\n  }\n", ECMPRealIP(r))
	}
	b.WriteString("}\n")
	return b.String()
}

// ECMPBird is the router's BIRD configuration for n directors: one
// neighbour each, equal paths merged into one ECMP route.
func ECMPBird(n int, hold time.Duration) BirdConf {
	c := BirdConf{Comment: "ECMP lab: the router", RouterID: ECMPRouterIP, ASN: ECMPRouterASN, HoldTime: hold, MergePaths: true}
	for i := 0; i < n; i++ {
		c.Neighbors = append(c.Neighbors, BirdNeighbor{Name: ECMPDirectorName(i), Address: ECMPDirectorIP(i), ASN: ECMPDirectorASN})
	}
	return c
}

// QuorumLostIn finds the first "quorum changed" record to "lost" at or
// after from in a havsd JSON log (log_format = "json").
func QuorumLostIn(log []byte, from time.Time) (time.Time, bool) {
	for _, line := range bytes.Split(log, []byte("\n")) {
		var rec struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
			New  string    `json:"new"`
		}
		if json.Unmarshal(line, &rec) != nil || rec.Msg != "quorum changed" || rec.New != "lost" {
			continue
		}
		if !rec.Time.Before(from) {
			return rec.Time, true
		}
	}
	return time.Time{}, false
}
