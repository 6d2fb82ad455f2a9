package conf

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// didYouMean returns ` Did you mean "x"?` for the closest choice within a
// small edit distance, or "".
func didYouMean(got string, choices []string) string {
	best, bestD := "", 3
	if len(got) <= 3 {
		bestD = 2
	}
	for _, c := range choices {
		if d := editDistance(got, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// keepalivedNames maps keepalived's keywords to havsd's, for the message
// that replaces hcl's "not expected here" when an operator writes one.
var keepalivedNames = map[string]string{
	"global_defs":             "use a `global` block",
	"virtual_server":          "use `virtual_service \"NAME\" { address = \"IP:PORT\" }`",
	"lb_kind":                 "use `forward` (nat, dr, tun or fullnat), e.g. forward = \"dr\"",
	"lvs_method":              "use `forward` (nat, dr, tun or fullnat), e.g. forward = \"dr\"",
	"lb_algo":                 "use `scheduler`, e.g. scheduler = \"wrr\"",
	"lvs_sched":               "use `scheduler`, e.g. scheduler = \"wrr\"",
	"persistence_timeout":     "use `persistence`, a duration: persistence = \"300s\"",
	"persistence_granularity": "use `persistence_netmask`",
	"delay_loop":              "use `interval` in a check block: check \"tcp\" { interval = \"6s\" }",
	"state": "havsd has no initial state: the highest `priority` becomes master " +
		"(give the backup a lower priority; `preempt` decides whether the master takes the role back)",
	"authentication":      "write `auth_pass = \"secret\"` in the vrrp_instance (PASS authentication, VRRPv2 only)",
	"auth_type":           "`auth_pass = \"secret\"` alone means PASS authentication (VRRPv2 only)",
	"advert_int":          "use `advert_interval`, a duration: advert_interval = \"1s\"",
	"nopreempt":           "use `preempt = false`",
	"unicast_src_ip":      "use `unicast_source`",
	"unicast_peer":        "use `unicast_peers = [\"192.0.2.2\"]`",
	"notify_master":       "use a `notify { master = [\"/path/to/script\", \"arg\"] }` block",
	"notify_backup":       "use a `notify { backup = [\"/path/to/script\", \"arg\"] }` block",
	"notify_fault":        "use a `notify { fault = [\"/path/to/script\", \"arg\"] }` block",
	"notify_stop":         "use a `notify { stop = [\"/path/to/script\", \"arg\"] }` block",
	"garp_master_delay":   "use `garp { repeat_delay = \"5s\" }`",
	"garp_master_repeat":  "use `garp { count = 5 }`",
	"garp_master_refresh": "use `garp { refresh = \"60s\" }`",
	"TCP_CHECK":           "use `check \"tcp\" {}`",
	"HTTP_GET":            "use `check \"http\" { path = \"/\", status = [\"200\"] }`",
	"SSL_GET":             "use `check \"https\" { path = \"/\", status = [\"200\"] }`",
	"MISC_CHECK":          "use `check \"script\" { command = [\"/path/to/program\", \"arg\"] }`",
	"DNS_CHECK":           "use `check \"dns\" { query_name = \"example.org\" }`",
	"UDP_CHECK":           "use `check \"udp\" {}`",
	"PING_CHECK":          "use `check \"ping\" {}`",
	"SMTP_CHECK":          "use `check \"smtp\" { helo_name = \"director.example.com\" }`",
	"url":                 "write `path`, `status` and `digest` in the check block itself",
	"status_code":         "use `status = [\"200\"]` (or a range, \"200-299\")",
	"connect_timeout":     "use `timeout`, a duration: timeout = \"5s\"",
	"nb_get_retry":        "use `retry`",
	"connect_port":        "use `port`",
	"bindto":              "use `source`",
	"virtualhost":         "use `host`",
	"misc_path":           "use `command = [\"/path/to/program\", \"arg\"]` (no shell)",
	"misc_timeout":        "use `timeout`",
}

// keepalivedHint returns the replacement detail for a keepalived keyword
// written where havsd does not take it, or "".
func keepalivedHint(name string) string {
	h, ok := keepalivedNames[name]
	switch {
	case !ok:
		return ""
	case strings.HasPrefix(h, "use "):
		return fmt.Sprintf("`%s` is keepalived's name: %s.", name, h)
	}
	return fmt.Sprintf("`%s` is keepalived's keyword: %s.", name, h)
}

// resembles reports whether got is a likely misspelling of one of names.
func resembles(got string, names []string) bool {
	if didYouMean(got, names) != "" || didYouMean(strings.ToLower(got), names) != "" {
		return true
	}
	for _, n := range names {
		if len(got) >= 5 && len(n) >= 5 && (strings.HasPrefix(n, got) || strings.HasPrefix(got, n)) {
			return true
		}
	}
	return false
}

// unknownNames lists the attribute and block names written in body that
// schema does not take.
func unknownNames(body hcl.Body, schema *hcl.BodySchema) []string {
	syn, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	// A linear scan of the schema, not a map of its names per block (60 MB
	// of garbage for 10,000 services).
	var out []string
	for name := range syn.Attributes {
		if !schemaTakes(schema, name) {
			out = append(out, name)
		}
	}
	for _, b := range syn.Blocks {
		if !schemaTakes(schema, b.Type) {
			out = append(out, b.Type)
		}
	}
	slices.Sort(out)
	return out
}

// schemaTakes reports whether schema has an attribute or a block type
// called name.
func schemaTakes(schema *hcl.BodySchema, name string) bool {
	for _, a := range schema.Attributes {
		if a.Name == name {
			return true
		}
	}
	for _, b := range schema.Blocks {
		if b.Type == name {
			return true
		}
	}
	return false
}

// explainUnknown rewrites hcl's diagnostics about the unknown names of
// body: a keepalived keyword is answered with havsd's name, and a required
// attribute reported missing only because it was misspelt is not reported
// again (the misspelling, with its suggestion, is the cause).
func explainUnknown(body hcl.Body, schema *hcl.BodySchema, unknown []string, diags hcl.Diagnostics) hcl.Diagnostics {
	syn, ok := body.(*hclsyntax.Body)
	if !ok {
		return explainMerged(diags) // the files of a conf.d, merged
	}
	if len(unknown) == 0 {
		return diags
	}
	nameAt := map[hcl.Pos]string{}
	for name, a := range syn.Attributes {
		nameAt[a.NameRange.Start] = name
	}
	for _, b := range syn.Blocks {
		nameAt[b.TypeRange.Start] = b.Type
	}
	covered := map[string]bool{} // quoted required name → reported as misspelt
	meant := map[string]string{} // unknown name → the required one it stands for
	for _, a := range schema.Attributes {
		if _, written := syn.Attributes[a.Name]; !a.Required || written {
			continue
		}
		for _, u := range unknown {
			if resembles(u, []string{a.Name}) {
				covered[strconv.Quote(a.Name)] = true
				meant[u] = a.Name
			}
		}
	}
	out := make(hcl.Diagnostics, 0, len(diags))
	for _, d := range diags {
		switch {
		case d.Subject == nil:
		case d.Summary == "Unsupported argument" || d.Summary == "Unsupported block type":
			name := nameAt[d.Subject.Start]
			if h := keepalivedHint(name); h != "" {
				c := *d
				c.Detail = h
				d = &c
			} else if m := meant[name]; m != "" && !strings.Contains(d.Detail, "Did you mean") {
				c := *d
				c.Detail += fmt.Sprintf(" Did you mean %q?", m)
				d = &c
			}
		case d.Summary == "Missing required argument":
			if name, _, ok := strings.Cut(strings.TrimPrefix(d.Detail, "The argument "), " "); ok && covered[name] {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// explainMerged answers keepalived's keywords in the top level of a conf.d,
// whose merged body does not expose its attributes: the name is read from
// hcl's detail text.
func explainMerged(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		out[i] = d
		if d.Summary != "Unsupported argument" && d.Summary != "Unsupported block type" {
			continue
		}
		_, rest, ok := strings.Cut(d.Detail, `"`)
		name, _, ok2 := strings.Cut(rest, `"`)
		if h := keepalivedHint(name); ok && ok2 && h != "" {
			c := *d
			c.Detail = h
			out[i] = &c
		}
	}
	return out
}
