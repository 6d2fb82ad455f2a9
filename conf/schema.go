package conf

import "github.com/hashicorp/hcl/v2"

func attrs(names ...string) []hcl.AttributeSchema {
	out := make([]hcl.AttributeSchema, len(names))
	for i, n := range names {
		out[i] = hcl.AttributeSchema{Name: n}
	}
	return out
}

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "global"},
	{Type: "vrrp_instance", LabelNames: []string{"name"}},
	{Type: "vrrp_sync_group", LabelNames: []string{"name"}},
	{Type: "virtual_service", LabelNames: []string{"name"}},
	{Type: "virtual_service_group", LabelNames: []string{"name"}},
	{Type: "vrrp_script", LabelNames: []string{"name"}},
	{Type: "track_file", LabelNames: []string{"name"}},
	{Type: "track_process", LabelNames: []string{"name"}},
	{Type: "bgp"},
}}

var globalSchema = &hcl.BodySchema{
	Attributes: attrs("router_id", "control_socket", "metrics_listen", "log_format", "log_level",
		"ipvs_mode", "reconcile_interval", "prune_foreign", "set_sysctls", "script_user", "notify_fifo"),
	Blocks: []hcl.BlockHeaderSchema{{Type: "ipvs_timeouts"}, {Type: "ipvs_sync"}},
}

var timeoutsSchema = &hcl.BodySchema{Attributes: attrs("tcp", "tcp_fin", "udp")}

var instanceSchema = &hcl.BodySchema{
	Attributes: append(attrs("priority", "version", "family", "advert_interval", "preempt",
		"preempt_delay", "auth_pass", "virtual_ipaddress", "unicast_source", "unicast_peers",
		"dont_track_primary", "yield_timeout"),
		hcl.AttributeSchema{Name: "interface", Required: true},
		hcl.AttributeSchema{Name: "virtual_router_id", Required: true}),
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "vip"},
		{Type: "track_interface", LabelNames: []string{"name"}},
		{Type: "track_service", LabelNames: []string{"service"}},
		{Type: "notify"},
		{Type: "garp"},
		{Type: "track_script", LabelNames: []string{"name"}},
		{Type: "track_file", LabelNames: []string{"name"}},
		{Type: "track_process", LabelNames: []string{"name"}},
	},
}

var vipSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "address", Required: true}, {Name: "dev"}}}

var trackSchema = &hcl.BodySchema{Attributes: attrs("weight")}

var notifySchema = &hcl.BodySchema{Attributes: attrs("master", "backup", "fault", "stop", "generic")}

var garpSchema = &hcl.BodySchema{Attributes: attrs("count", "interval", "repeat_delay", "repeat_count", "refresh")}

var groupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "instances", Required: true}},
	Blocks: []hcl.BlockHeaderSchema{{Type: "notify"},
		{Type: "track_script", LabelNames: []string{"name"}},
		{Type: "track_file", LabelNames: []string{"name"}},
		{Type: "track_process", LabelNames: []string{"name"}},
	},
}

var serviceSchema = &hcl.BodySchema{
	Attributes: attrs("protocol", "address", "fwmark", "family", "scheduler", "sched_flags",
		"persistence", "persistence_netmask", "persistence_engine", "instance", "quorum",
		"hysteresis", "drain_for", "forward", "inhibit_on_failure", "sorry_server_inhibit", "quorum_up", "quorum_down", "omega",
		"ops", "tun_type", "tun_port", "tun_flags", "group", "announce"),
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "check", LabelNames: []string{"kind"}},
		{Type: "real_server", LabelNames: []string{"address"}},
		{Type: "sorry_server", LabelNames: []string{"address"}},
		{Type: "classify"},
	},
}

var realSchema = &hcl.BodySchema{
	Attributes: attrs("weight", "forward", "snat_source", "upper_threshold", "lower_threshold", "inhibit_on_failure", "notify_up", "notify_down",
		"tun_type", "tun_port", "tun_flags"),
	Blocks: []hcl.BlockHeaderSchema{{Type: "check", LabelNames: []string{"kind"}},
		{Type: "track_file", LabelNames: []string{"name"}}}, // keepalived's FILE_CHECK (filecheck.go)
}

var sorrySchema = &hcl.BodySchema{Attributes: attrs("weight", "forward", "snat_source", "tun_type", "tun_port", "tun_flags")}

var classifySchema = &hcl.BodySchema{Attributes: append(attrs("protocol", "ports"),
	hcl.AttributeSchema{Name: "address", Required: true})}

// checkCommon are the attributes every check kind takes; checkAttrs the
// extra ones per kind. The schema is their union; validation says which
// attribute a kind does not take.
var checkCommon = []string{"interval", "timeout", "retry", "delay_before_retry", "rise", "warmup", "alpha"}

var checkAttrs = map[string][]string{
	"tcp":    {"port", "connect_ip", "bind_if", "source"},
	"http":   {"port", "connect_ip", "bind_if", "source", "path", "host", "status", "digest", "regex", "max_body", "regex_no_match"},
	"https":  {"port", "connect_ip", "bind_if", "source", "path", "host", "status", "digest", "regex", "max_body", "tls_server_name", "tls_verify", "regex_no_match", "tls_ca", "tls_cert", "tls_key"},
	"script": {"command", "misc_dynamic"},
	"udp":    {"port", "connect_ip", "bind_if", "source", "payload", "expect_reply"},
	"dns":    {"port", "connect_ip", "bind_if", "source", "query_name", "query_type"},
	"ping":   {"source", "connect_ip"},
	"smtp":   {"port", "connect_ip", "bind_if", "source", "helo_name"},
}

var checkKinds = []string{"tcp", "http", "https", "script", "udp", "dns", "ping", "smtp"}

var checkSchema = func() *hcl.BodySchema {
	seen := map[string]bool{}
	var names []string
	for _, n := range checkCommon {
		seen[n] = true
		names = append(names, n)
	}
	for _, k := range checkKinds {
		for _, n := range checkAttrs[k] {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return &hcl.BodySchema{Attributes: attrs(names...), Blocks: []hcl.BlockHeaderSchema{{Type: "url"}}}
}()
