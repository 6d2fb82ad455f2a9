package keepalived

import (
	"time"

	"github.com/havsd/havsd/track"

	"github.com/havsd/havsd/vrrp"
)

// scope is the block a keyword appears in.
type scope uint8

const (
	scopeInvalid scope = iota
	scopeTop
	scopeGlobal
	scopeInstance
	scopeGroup
	scopeAuth
	scopeVS
	scopeRS
	scopeCheck // options every checker takes
	scopeHTTP
	scopeURL
	scopeMisc
	scopeDNS
	scopeUDP
	scopeTCP
	scopePing
	scopeSMTP
	scopeScript
	scopeTrackFile
	scopeProcess
	scopeSSL
	scopeFileCheck
)

var scopeNames = map[scope]string{scopeTop: "the top level", scopeGlobal: "global_defs",
	scopeInstance: "vrrp_instance", scopeGroup: "vrrp_sync_group", scopeAuth: "authentication",
	scopeVS: "virtual_server", scopeRS: "real_server", scopeCheck: "a checker", scopeHTTP: "HTTP_GET/SSL_GET",
	scopeURL: "url", scopeMisc: "MISC_CHECK", scopeDNS: "DNS_CHECK", scopeUDP: "UDP_CHECK",
	scopeTCP: "TCP_CHECK", scopePing: "PING_CHECK", scopeSMTP: "SMTP_CHECK", scopeScript: "vrrp_script", scopeTrackFile: "track_file",
	scopeProcess: "vrrp_track_process", scopeSSL: "SSL", scopeFileCheck: "FILE_CHECK"}

// String names the block.
func (s scope) String() string {
	if n, ok := scopeNames[s]; ok {
		return n
	}
	return "invalid"
}

// checkScopes are the keyword scopes of each checker block; scopeCheck
// (the common options) is searched after them.
var checkScopes = map[string]scope{"TCP_CHECK": scopeTCP, "HTTP_GET": scopeHTTP, "SSL_GET": scopeHTTP,
	"MISC_CHECK": scopeMisc, "DNS_CHECK": scopeDNS, "UDP_CHECK": scopeUDP, "PING_CHECK": scopePing,
	"SMTP_CHECK": scopeSMTP}

// rule maps one keepalived keyword. A nil apply means havsd cannot express
// it: the conversion reports what it does (what) and the closest havsd
// equivalent (closest).
type rule struct {
	scope   scope
	keyword string
	apply   func(c *converter, n *Node)
	what    string
	closest string
}

// Shared wording of the rows below.
const (
	noMail     = "sends e-mail alerts"
	mailAlt    = "notify commands can send mail"
	noSNMP     = "names the object in keepalived's SNMP MIB"
	snmpAlt    = "havsd status --json and the Prometheus metrics"
	tuning     = "tunes keepalived's own processes (priority, memory, netlink buffers, namespaces, files)"
	tuningAlt  = "the systemd unit (Nice=, CPUAffinity=, NetworkNamespacePath=)"
	notYet     = "not in havsd yet"
	vmac       = "puts the virtual addresses on a macvlan/ipvlan with the VRRP virtual MAC"
	vmacAlt    = "havsd uses the interface's own MAC and gratuitous ARP"
	perUser    = "runs scripts as a chosen user"
	perUserAlt = "havsd runs commands as its own user; wrap them in runuser or setpriv"
)

func garpInto(field func(*garpSettings) *opt[time.Duration]) func(c *converter, n *Node) {
	return func(c *converter, n *Node) {
		if d, ok := c.timer(n); ok {
			field(c.garpOf()).put(d)
		}
	}
}

func (c *converter) garpOf() *garpSettings {
	if c.inst != nil {
		return &c.inst.garp
	}
	return &c.global.garp
}

func garpRepeat(c *converter, n *Node) {
	if v, ok := c.integer(n, 1, 10000); ok {
		c.garpOf().repeat.put(int(v))
	}
}

func minGarp(c *converter, n *Node) {
	if v, ok := c.boolean(n); ok {
		c.garpOf().min.put(v)
	}
}

func dflt(f func(*checkDefaults) *opt[time.Duration]) func(*converter, *Node) { return timerInto(f) }

var (
	delayLoop = dflt(func(d *checkDefaults) *opt[time.Duration] { return &d.delayLoop })
	connTO    = dflt(func(d *checkDefaults) *opt[time.Duration] { return &d.timeout })
	dbr       = dflt(func(d *checkDefaults) *opt[time.Duration] { return &d.dbr })
	warmup    = dflt(func(d *checkDefaults) *opt[time.Duration] { return &d.warmup })
)

// rules is the keyword table, by scope. Old spellings keepalived still
// accepts have rows of their own pointing at the same conversion.
var rules = []rule{
	// Top level.
	{scopeTop, "global_defs", (*converter).globalDefs, "", ""},
	{scopeTop, "vrrp_instance", (*converter).vrrpInstance, "", ""},
	{scopeTop, "vrrp_sync_group", (*converter).syncGroup, "", ""},
	{scopeTop, "virtual_server", (*converter).virtualServer, "", ""},
	{scopeTop, "vrrp_script", defineTracker(track.KindScript, scopeScript), "", ""},
	{scopeTop, "vrrp_track_file", defineTracker(track.KindFile, scopeTrackFile), "", ""},
	{scopeTop, "track_file", defineTracker(track.KindFile, scopeTrackFile), "", ""},
	{scopeTop, "vrrp_track_process", defineTracker(track.KindProcess, scopeProcess), "", ""},

	// vrrp_script, track_file, vrrp_track_process.
	{scopeScript, "script", (*converter).scriptCommand, "", ""},
	{scopeScript, "interval", scriptTimer(false), "", ""},
	{scopeScript, "timeout", scriptTimer(true), "", ""},
	{scopeScript, "rise", scriptCount(false), "", ""},
	{scopeScript, "fall", scriptCount(true), "", ""},
	{scopeScript, "weight", (*converter).trackerWeight, "", ""},
	{scopeScript, "user", (*converter).scriptUser, "", ""},
	{scopeScript, "init_fail", (*converter).initFail, "", ""},
	{scopeTrackFile, "file", (*converter).trackFilePath, "", ""},
	{scopeTrackFile, "weight", (*converter).trackerWeight, "", ""},
	{scopeTrackFile, "init_file", nil, "creates the file with a value at start-up", "create the file in the unit (ExecStartPre=)"},
	{scopeProcess, "process", (*converter).processName, "", ""},
	{scopeProcess, "weight", (*converter).trackerWeight, "", ""},
	{scopeProcess, "quorum", processQuorum(false), "", ""},
	{scopeProcess, "quorum_max", processQuorum(true), "", ""},
	{scopeProcess, "delay", (*converter).processDelay, "", ""},
	{scopeProcess, "param_match", (*converter).paramMatch, "", ""},
	{scopeProcess, "full_command", nil, "matches the full command path", "match = \"args\""},
	{scopeProcess, "terminate_delay", nil, "delays the reaction to a process ending", "delay"},
	{scopeProcess, "fork_delay", nil, "delays the reaction to a process starting", "delay"},
	{scopeTop, "virtual_server_group", (*converter).serverGroup, "", ""},
	{scopeTop, "static_ipaddress", nil, "adds addresses at start-up, outside VRRP", "the system's network configuration"},
	{scopeTop, "static_routes", nil, "adds routes at start-up", "the system's network configuration"},
	{scopeTop, "static_rules", nil, "adds policy rules at start-up", "the system's network configuration"},
	{scopeTop, "static_track_group", nil, "groups static addresses and routes tracked by instances", ""},
	{scopeTop, "garp_group", nil, "paces gratuitous ARPs per interface", "garp { interval } per instance"},
	{scopeTop, "linkbeat_interfaces", nil, "polls link state with MII/ethtool", "havsd follows netlink link state"},
	{scopeTop, "bfd_instance", nil, "runs a BFD session", ""},
	{scopeTop, "SSL", (*converter).sslBlock, "", ""},
	{scopeSSL, "ca", sslFile(func(s *sslSettings) (*string, **Node) { return &s.ca, &s.caNode }), "", ""},
	{scopeSSL, "certificate", sslFile(func(s *sslSettings) (*string, **Node) { return &s.cert, &s.certNode }), "", ""},
	{scopeSSL, "key", sslFile(func(s *sslSettings) (*string, **Node) { return &s.key, &s.keyNode }), "", ""},
	{scopeSSL, "password", func(c *converter, n *Node) { c.extra(n, 1); c.global.ssl.passwdNode = n }, "", ""},
	{scopeTop, "net_namespace", nil, tuning, tuningAlt},
	{scopeTop, "instance", nil, tuning, tuningAlt},

	// global_defs.
	{scopeGlobal, "router_id", func(c *converter, n *Node) {
		if s, ok := c.arg(n, 1); ok {
			c.extra(n, 1)
			c.global.routerID = s
		}
	}, "", ""},
	{scopeGlobal, "vrrp_version", (*converter).globalVersion, "", ""},
	{scopeGlobal, "vrrp_garp_master_delay", garpInto(func(g *garpSettings) *opt[time.Duration] { return &g.delay }), "", ""},
	{scopeGlobal, "vrrp_garp_master_repeat", garpRepeat, "", ""},
	{scopeGlobal, "vrrp_garp_master_refresh", garpInto(func(g *garpSettings) *opt[time.Duration] { return &g.refresh }), "", ""},
	{scopeGlobal, "vrrp_garp_interval", garpInto(func(g *garpSettings) *opt[time.Duration] { return &g.interval }), "", ""},
	{scopeGlobal, "vrrp_gna_interval", garpInto(func(g *garpSettings) *opt[time.Duration] { return &g.interval }), "", ""},
	{scopeGlobal, "vrrp_min_garp", minGarp, "", ""},
	{scopeGlobal, "vrrp_garp_master_refresh_repeat", nil, "sets how many ARPs each refresh sends", "one per refresh"},
	{scopeGlobal, "vrrp_garp_lower_prio_delay", nil, "re-announces after a lower-priority advert", "none"},
	{scopeGlobal, "vrrp_garp_lower_prio_repeat", nil, "re-announces after a lower-priority advert", "none"},
	{scopeGlobal, "lvs_timeouts", (*converter).lvsTimeouts, "", ""},
	{scopeGlobal, "lvs_flush", func(c *converter, n *Node) {
		c.global.prune = true
		c.note(n, "keepalived flushes the whole IPVS table at start-up; havsd's prune_foreign deletes the services it does not own and keeps reconciling")
	}, "", ""},
	{scopeGlobal, "lvs_flush_on_stop", nil, "flushes IPVS at shutdown", "havsd leaves the table in place when it stops (warm restart)"},
	{scopeGlobal, "lvs_sync_daemon", (*converter).syncDaemon, "", ""},
	{scopeGlobal, "lvs_sync_daemon_interface", (*converter).syncDaemon, "", ""},
	{scopeGlobal, "vrrp_strict", nil, "enforces RFC rules strictly (no auth, no unicast, no_accept firewall rules)", "none; havsd always checks TTL, version and checksums"},
	{scopeGlobal, "vrrp_skip_check_adv_addr", nil, "skips comparing the advert's address list with its own", "havsd does not drop adverts for a different address list"},
	{scopeGlobal, "vrrp_check_unicast_src", nil, "drops unicast adverts from non-peers", "havsd always does"},
	{scopeGlobal, "vrrp_mcast_group4", nil, "uses another IPv4 multicast group for adverts", "none: 224.0.0.18"},
	{scopeGlobal, "vrrp_mcast_group6", nil, "uses another IPv6 multicast group for adverts", "none: ff02::12"},
	{scopeGlobal, "vrrp_iptables", nil, "adds firewall rules for no_accept mode", "none"},
	{scopeGlobal, "vrrp_ipsets", nil, "adds ipsets for no_accept mode", "none"},
	{scopeGlobal, "nftables", nil, "adds nftables rules for no_accept mode", "none"},
	{scopeGlobal, "enable_script_security", func(c *converter, n *Node) {
		c.note(n, "havsd always refuses scripts that a non-root user could modify")
	}, "", ""},
	{scopeGlobal, "script_user", (*converter).globalScriptUser, "", ""},
	{scopeGlobal, "notification_email", nil, noMail, mailAlt},
	{scopeGlobal, "notification_email_from", nil, noMail, mailAlt},
	{scopeGlobal, "smtp_server", nil, noMail, mailAlt},
	{scopeGlobal, "smtp_connect_timeout", nil, noMail, mailAlt},
	{scopeGlobal, "smtp_helo_name", nil, noMail, mailAlt},
	{scopeGlobal, "smtp_alert", nil, noMail, mailAlt},
	{scopeGlobal, "smtp_alert_vrrp", nil, noMail, mailAlt},
	{scopeGlobal, "smtp_alert_checker", nil, noMail, mailAlt},
	{scopeGlobal, "enable_snmp_vrrp", nil, "serves keepalived's SNMP MIB", snmpAlt},
	{scopeGlobal, "enable_snmp_checker", nil, "serves keepalived's SNMP MIB", snmpAlt},
	{scopeGlobal, "enable_snmp_rfc", nil, "serves the VRRP SNMP MIB", snmpAlt},
	{scopeGlobal, "enable_traps", nil, "sends SNMP traps", snmpAlt},
	{scopeGlobal, "enable_dbus", nil, "serves state over D-Bus", snmpAlt},
	{scopeGlobal, "notify_fifo", (*converter).notifyFIFO, "", ""},
	{scopeGlobal, "vrrp_notify_fifo", (*converter).notifyFIFO, "", ""},
	{scopeGlobal, "notify_fifo_script", nil, "runs a script that reads the notify FIFO", "run the reader as a service of its own"},
	{scopeGlobal, "vrrp_notify_fifo_script", nil, "runs a script that reads the notify FIFO", "run the reader as a service of its own"},
	{scopeGlobal, "lvs_notify_fifo", nil, "writes state changes to a FIFO", "notify commands"},
	{scopeGlobal, "default_interface", nil, "sets the interface for instances without one", "interface on each vrrp_instance"},
	{scopeGlobal, "dynamic_interfaces", nil, "allows interfaces that appear later", "none"},
	{scopeGlobal, "vrrp_priority", nil, tuning, tuningAlt},
	{scopeGlobal, "checker_priority", nil, tuning, tuningAlt},
	{scopeGlobal, "vrrp_no_swap", nil, tuning, tuningAlt},
	{scopeGlobal, "checker_no_swap", nil, tuning, tuningAlt},
	{scopeGlobal, "vrrp_rt_priority", nil, tuning, tuningAlt},
	{scopeGlobal, "checker_rt_priority", nil, tuning, tuningAlt},
	{scopeGlobal, "vrrp_cpu_affinity", nil, tuning, tuningAlt},
	{scopeGlobal, "checker_cpu_affinity", nil, tuning, tuningAlt},
	{scopeGlobal, "max_auto_priority", nil, tuning, tuningAlt},
	{scopeGlobal, "vrrp_startup_delay", nil, "delays VRRP start after boot", "systemd ExecStartPre=/bin/sleep"},
	{scopeGlobal, "vrrp_lower_prio_no_advert", nil, "stays silent on lower-priority adverts", "none (havsd answers as RFC 5798)"},
	{scopeGlobal, "vrrp_higher_prio_send_advert", nil, "sends an advert before yielding to a higher priority", "none"},

	// vrrp_instance.
	{scopeInstance, "state", (*converter).state, "", ""},
	{scopeInstance, "interface", (*converter).iface, "", ""},
	{scopeInstance, "virtual_router_id", (*converter).vrid, "", ""},
	{scopeInstance, "priority", (*converter).priority, "", ""},
	{scopeInstance, "advert_int", (*converter).advertInt, "", ""},
	{scopeInstance, "version", (*converter).instVersion, "", ""},
	{scopeInstance, "nopreempt", (*converter).nopreempt, "", ""},
	{scopeInstance, "preempt", (*converter).preempt, "", ""},
	{scopeInstance, "preempt_delay", (*converter).preemptDelay, "", ""},
	{scopeInstance, "unicast_src_ip", (*converter).unicastSrc, "", ""},
	{scopeInstance, "unicast_peer", (*converter).unicastPeers, "", ""},
	{scopeInstance, "authentication", (*converter).authentication, "", ""},
	{scopeInstance, "virtual_ipaddress", (*converter).vips, "", ""},
	{scopeInstance, "track_interface", (*converter).trackInterface, "", ""},
	{scopeInstance, "notify_master", notifyInto(func(n *vrrp.Notify) *[]string { return &n.Master }), "", ""},
	{scopeInstance, "notify_backup", notifyInto(func(n *vrrp.Notify) *[]string { return &n.Backup }), "", ""},
	{scopeInstance, "notify_fault", notifyInto(func(n *vrrp.Notify) *[]string { return &n.Fault }), "", ""},
	{scopeInstance, "notify_stop", notifyInto(func(n *vrrp.Notify) *[]string { return &n.Stop }), "", ""},
	{scopeInstance, "garp_master_delay", garpInto(func(g *garpSettings) *opt[time.Duration] { return &g.delay }), "", ""},
	{scopeInstance, "garp_master_repeat", garpRepeat, "", ""},
	{scopeInstance, "garp_master_refresh", garpInto(func(g *garpSettings) *opt[time.Duration] { return &g.refresh }), "", ""},
	{scopeInstance, "garp_master_refresh_repeat", nil, "sets how many ARPs each refresh sends", "one per refresh"},
	{scopeInstance, "garp_lower_prio_delay", nil, "re-announces after a lower-priority advert", "none"},
	{scopeInstance, "garp_lower_prio_repeat", nil, "re-announces after a lower-priority advert", "none"},
	{scopeInstance, "notify", notifyInto(func(n *vrrp.Notify) *[]string { return &n.Generic }), "", ""},
	{scopeInstance, "notify_deleted", nil, "runs a script when a reload deletes the instance", "none"},
	{scopeInstance, "notify_master_rx_lower_pri", nil, "runs a script when the master hears a lower priority", "none"},
	{scopeInstance, "track_script", trackList(track.KindScript), "", ""},
	{scopeInstance, "track_file", trackList(track.KindFile), "", ""},
	{scopeInstance, "track_process", trackList(track.KindProcess), "", ""},
	{scopeInstance, "track_bfd", nil, "moves the priority by BFD session state", "none"},
	{scopeInstance, "dont_track_primary", func(c *converter, n *Node) {
		c.extra(n, 0)
		c.inst.cfg.DontTrackPrimary = true
	}, "", ""},
	{scopeInstance, "mcast_src_ip", nil, "sends adverts from this address", "havsd sends from the interface's primary address; unicast_source in unicast mode"},
	{scopeInstance, "mcast_dst_ip", nil, "sends adverts to another multicast group", "none"},
	{scopeInstance, "track_src_ip", nil, "goes to fault when the source address disappears", "none"},
	{scopeInstance, "virtual_ipaddress_excluded", nil, "adds addresses with the VIPs but leaves them out of adverts", "list them in virtual_ipaddress (they are then advertised)"},
	{scopeInstance, "virtual_routes", nil, "adds routes while master", "a notify master/backup command running ip route"},
	{scopeInstance, "virtual_rules", nil, "adds policy rules while master", "a notify master/backup command running ip rule"},
	{scopeInstance, "use_vmac", nil, vmac, vmacAlt},
	{scopeInstance, "vmac_xmit_base", nil, vmac, vmacAlt},
	{scopeInstance, "use_ipvlan", nil, vmac, vmacAlt},
	{scopeInstance, "accept", nil, "accepts traffic to VIPs when not the address owner (already the default)", "havsd never filters traffic to VIPs"},
	{scopeInstance, "no_accept", nil, "drops traffic to the VIPs with firewall rules", "none"},
	{scopeInstance, "strict_mode", nil, "enforces RFC rules strictly", "none"},
	{scopeInstance, "smtp_alert", nil, noMail, mailAlt},
	{scopeInstance, "native_ipv6", nil, "forces IPv6 (deprecated: the VIPs decide)", "the VIPs' family decides, as in keepalived"},
	{scopeInstance, "lvs_sync_daemon_interface", (*converter).syncDaemon, "", ""},
	{scopeInstance, "unicast_ttl", nil, "sets the TTL of unicast adverts", "havsd always sends TTL 255"},
	{scopeInstance, "check_unicast_src", nil, "drops unicast adverts from non-peers", "havsd always does"},
	{scopeInstance, "skip_check_adv_addr", nil, "skips comparing the advert's address list", "havsd does not drop adverts for a different address list"},
	{scopeInstance, "down_timer_adverts", nil, "changes the master-down timer from 3 adverts", "none (RFC 3 adverts + skew)"},
	{scopeInstance, "debug", nil, "sets a debug level (not implemented in keepalived)", "log_level in global"},
	{scopeInstance, "promote_secondaries", nil, "sets promote_secondaries on the interface", "sysctl net.ipv4.conf.IF.promote_secondaries=1"},
	{scopeInstance, "auth_hmac", nil, "signs adverts with HMAC-SHA256", "unicast peers; auth_pass (v2)"},

	// vrrp_sync_group.
	{scopeGroup, "group", (*converter).groupMembers, "", ""},
	{scopeGroup, "notify_master", notifyInto(func(n *vrrp.Notify) *[]string { return &n.Master }), "", ""},
	{scopeGroup, "notify_backup", notifyInto(func(n *vrrp.Notify) *[]string { return &n.Backup }), "", ""},
	{scopeGroup, "notify_fault", notifyInto(func(n *vrrp.Notify) *[]string { return &n.Fault }), "", ""},
	{scopeGroup, "notify_stop", notifyInto(func(n *vrrp.Notify) *[]string { return &n.Stop }), "", ""},
	{scopeGroup, "notify", notifyInto(func(n *vrrp.Notify) *[]string { return &n.Generic }), "", ""},
	{scopeGroup, "smtp_alert", nil, noMail, mailAlt},
	{scopeGroup, "track_interface", nil, "tracks interfaces for every member", "track_interface in each vrrp_instance"},
	{scopeGroup, "track_script", trackList(track.KindScript), "", ""},
	{scopeGroup, "track_file", trackList(track.KindFile), "", ""},
	{scopeGroup, "track_process", trackList(track.KindProcess), "", ""},
	{scopeGroup, "global_tracking", nil, "shares tracking among members (deprecated)", "track_interface in each vrrp_instance"},

	// virtual_server.
	{scopeVS, "lvs_sched", (*converter).sched, "", ""},
	{scopeVS, "lb_algo", (*converter).sched, "", ""},
	{scopeVS, "lvs_method", (*converter).lvsMethod, "", ""},
	{scopeVS, "lb_kind", (*converter).lvsMethod, "", ""},
	{scopeVS, "protocol", (*converter).protocol, "", ""},
	{scopeVS, "ip_family", (*converter).ipFamily, "", ""},
	{scopeVS, "persistence_timeout", (*converter).persistenceTimeout, "", ""},
	{scopeVS, "persistence_granularity", (*converter).granularity, "", ""},
	{scopeVS, "persistence_engine", (*converter).engine, "", ""},
	{scopeVS, "quorum", (*converter).quorum, "", ""},
	{scopeVS, "hysteresis", (*converter).hysteresis, "", ""},
	{scopeVS, "weight", (*converter).weight, "", ""},
	{scopeVS, "delay_loop", delayLoop, "", ""},
	{scopeVS, "connect_timeout", connTO, "", ""},
	{scopeVS, "retry", (*converter).retry, "", ""},
	{scopeVS, "nb_get_retry", (*converter).retry, "", ""},
	{scopeVS, "delay_before_retry", dbr, "", ""},
	{scopeVS, "warmup", warmup, "", ""},
	{scopeVS, "alpha", (*converter).alpha, "", ""},
	{scopeVS, "inhibit_on_failure", (*converter).inhibit, "", ""},
	{scopeVS, "virtualhost", (*converter).virtualhost, "", ""},
	{scopeVS, "real_server", (*converter).realServer, "", ""},
	{scopeVS, "sorry_server", (*converter).sorryServer, "", ""},
	{scopeVS, "sorry_server_lvs_method", (*converter).sorryMethod, "", ""},
	{scopeVS, "sh-port", (*converter).schedFlag, "", ""},
	{scopeVS, "sh-fallback", (*converter).schedFlag, "", ""},
	{scopeVS, "mh-port", (*converter).schedFlag, "", ""},
	{scopeVS, "mh-fallback", (*converter).schedFlag, "", ""},
	{scopeVS, "flag-1", (*converter).schedFlag, "", ""},
	{scopeVS, "flag-2", (*converter).schedFlag, "", ""},
	{scopeVS, "flag-3", (*converter).schedFlag, "", ""},
	{scopeVS, "ops", (*converter).opsFlag, "", ""},
	{scopeVS, "hashed", nil, "an obsolete scheduler flag", "none needed"},
	{scopeVS, "sorry_server_inhibit", func(c *converter, n *Node) {
		c.extra(n, 0)
		c.svc.sorryInhibit = true
	}, "", ""},
	{scopeVS, "quorum_up", hook(func(c *converter) *[]string { return &c.svc.quorumUp }), "", ""},
	{scopeVS, "quorum_down", hook(func(c *converter) *[]string { return &c.svc.quorumDown }), "", ""},
	{scopeVS, "omega", func(c *converter, n *Node) {
		c.extra(n, 0)
		c.svc.omega = true
	}, "", ""},
	{scopeVS, "ha_suspend", nil, "suspends checks while the VIP is not on this host", "ipvs_mode = \"master\" in global programs IPVS on the master only"},
	{scopeVS, "smtp_alert", nil, noMail, mailAlt},
	{scopeVS, "snmp_name", nil, noSNMP, snmpAlt},

	// real_server (and the checker blocks in it).
	{scopeRS, "weight", (*converter).weight, "", ""},
	{scopeRS, "lvs_method", (*converter).lvsMethod, "", ""},
	{scopeRS, "uthreshold", threshold(true), "", ""},
	{scopeRS, "lthreshold", threshold(false), "", ""},
	{scopeRS, "inhibit_on_failure", (*converter).inhibit, "", ""},
	{scopeRS, "delay_loop", delayLoop, "", ""},
	{scopeRS, "connect_timeout", connTO, "", ""},
	{scopeRS, "retry", (*converter).retry, "", ""},
	{scopeRS, "nb_get_retry", (*converter).retry, "", ""},
	{scopeRS, "delay_before_retry", dbr, "", ""},
	{scopeRS, "warmup", warmup, "", ""},
	{scopeRS, "alpha", (*converter).alpha, "", ""},
	{scopeRS, "virtualhost", (*converter).virtualhost, "", ""},
	{scopeRS, "TCP_CHECK", (*converter).checker, "", ""},
	{scopeRS, "HTTP_GET", (*converter).checker, "", ""},
	{scopeRS, "SSL_GET", (*converter).checker, "", ""},
	{scopeRS, "MISC_CHECK", (*converter).checker, "", ""},
	{scopeRS, "DNS_CHECK", (*converter).checker, "", ""},
	{scopeRS, "UDP_CHECK", (*converter).checker, "", ""},
	{scopeRS, "PING_CHECK", (*converter).checker, "", ""},
	{scopeRS, "SMTP_CHECK", (*converter).checker, "", ""},
	{scopeSMTP, "helo_name", func(c *converter, n *Node) {
		if v, ok := c.arg(n, 1); ok {
			c.extra(n, 1)
			c.chk.heloName = v
		}
	}, "", ""},
	{scopeSMTP, "host", nil, "checks several addresses in one SMTP_CHECK", "one check \"smtp\" per address"},
	{scopeRS, "BFD_CHECK", nil, "follows a BFD session", "none"},
	{scopeRS, "FILE_CHECK", (*converter).fileCheckBlock, "", ""},
	{scopeRS, "notify_up", hook(func(c *converter) *[]string { return &c.rs.notifyUp }), "", ""},
	{scopeRS, "notify_down", hook(func(c *converter) *[]string { return &c.rs.notifyDown }), "", ""},
	{scopeRS, "smtp_alert", nil, noMail, mailAlt},
	{scopeRS, "snmp_name", nil, noSNMP, snmpAlt},

	// Options of every checker.
	{scopeCheck, "connect_port", (*converter).connectPort, "", ""},
	{scopeCheck, "bindto", (*converter).bindto, "", ""},
	{scopeCheck, "connect_timeout", connTO, "", ""},
	{scopeCheck, "delay_loop", delayLoop, "", ""},
	{scopeCheck, "retry", (*converter).retry, "", ""},
	{scopeCheck, "nb_get_retry", (*converter).retry, "", ""},
	{scopeCheck, "delay_before_retry", dbr, "", ""},
	{scopeCheck, "warmup", warmup, "", ""},
	{scopeCheck, "alpha", (*converter).alpha, "", ""},
	{scopeCheck, "connect_ip", func(c *converter, n *Node) {
		if a, ok := c.addr(n, 1); ok {
			c.extra(n, 1)
			c.chk.connectIP = a
		}
	}, "", ""},
	{scopeCheck, "bind_port", nil, "checks from a fixed source port", "none"},
	{scopeCheck, "bind_if", func(c *converter, n *Node) {
		if v, ok := c.arg(n, 1); ok {
			c.extra(n, 1)
			c.chk.bindIf = v
		}
	}, "", ""},
	{scopeCheck, "fwmark", nil, "marks check packets", "none"},
	{scopeCheck, "log_all_failures", nil, "logs every failure, not only transitions", "log_level = \"debug\""},

	// HTTP_GET and SSL_GET.
	{scopeHTTP, "url", (*converter).urlBlock, "", ""},
	{scopeHTTP, "virtualhost", (*converter).virtualhost, "", ""},
	{scopeHTTP, "sni_name", (*converter).sniName, "", ""},
	{scopeHTTP, "enable_sni", (*converter).enableSNI, "", ""},
	{scopeHTTP, "http_protocol", nil, "chooses HTTP/1.0 or 1.1 for the request", "havsd sends HTTP/1.1"},
	{scopeHTTP, "fast_recovery", nil, "checks every URL without delay after a failure", "none"},
	{scopeHTTP, "tls_compliant", nil, "sends a TLS close_notify", "none"},
	{scopeURL, "path", urlString(func(u *url) *string { return &u.path }), "", ""},
	{scopeURL, "digest", urlString(func(u *url) *string { return &u.digest }), "", ""},
	{scopeURL, "status_code", (*converter).statusCode, "", ""},
	{scopeURL, "virtualhost", (*converter).virtualhost, "", ""},
	{scopeURL, "regex", urlString(func(u *url) *string { return &u.regex }), "", ""},
	{scopeURL, "regex_no_match", func(c *converter, n *Node) {
		c.extra(n, 0)
		c.url.regexNoMatch = true
	}, "", ""},
	{scopeURL, "regex_options", nil, "PCRE2 options of the regex", "Go RE2 syntax inline flags, e.g. (?i)"},
	{scopeURL, "regex_stack", nil, "PCRE2 JIT stack sizes", "none needed"},
	{scopeURL, "regex_min_offset", nil, "where in the body the match may start", "none"},
	{scopeURL, "regex_max_offset", nil, "where in the body the match may start", "max_body"},
	{scopeURL, "tls_compliant", nil, "sends a TLS close_notify", "none"},

	// MISC_CHECK.
	{scopeMisc, "misc_path", (*converter).miscPath, "", ""},
	{scopeMisc, "misc_timeout", (*converter).miscTimeout, "", ""},
	{scopeMisc, "misc_dynamic", func(c *converter, n *Node) {
		c.extra(n, 0)
		c.chk.dynamic = true
	}, "", ""},
	{scopeMisc, "user", nil, perUser, perUserAlt},

	// DNS_CHECK.
	{scopeDNS, "type", (*converter).dnsType, "", ""},
	{scopeDNS, "name", (*converter).dnsName, "", ""},

	// UDP_CHECK.
	{scopeUDP, "payload", (*converter).payload, "", ""},
	{scopeUDP, "require_reply", (*converter).requireReply, "", ""},
	{scopeUDP, "min_reply_length", nil, "bounds the reply length", "none"},
	{scopeUDP, "max_reply_length", nil, "bounds the reply length", "none"},
}

// ruleIndex is rules by scope and keyword; built in init because the
// rules' conversions walk nested blocks through it.
var ruleIndex map[scope]map[string]rule

func init() {
	ruleIndex = map[scope]map[string]rule{}
	for _, r := range rules {
		if ruleIndex[r.scope] == nil {
			ruleIndex[r.scope] = map[string]rule{}
		}
		ruleIndex[r.scope][r.keyword] = r
	}
}

func lookup(sc scope, kw string) (rule, bool) {
	r, ok := ruleIndex[sc][kw]
	return r, ok
}
