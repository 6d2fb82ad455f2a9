# The agreed shape of havsd's HCL (conf/ implements it; examples/ and the lab use it).
global {
  router_id          = "lvs1"
  control_socket     = "/run/havsd/havsd.sock"
  metrics_listen     = "127.0.0.1:9473"   # omit to disable
  log_format         = "text"             # or "json"
  log_level          = "info"
  ipvs_mode          = "always"           # warm standby (default); "master" programs IPVS on the master only
  reconcile_interval = "10s"
  prune_foreign      = false
  set_sysctls        = true
  # script_user      = "havsd_script"     # runs vrrp_scripts; default havsd_script if it exists, else root
  # notify_fifo      = "/run/havsd/notify.fifo"  # a line per VRRP transition, keepalived's format
  ipvs_timeouts {
    tcp     = "900s"
    tcp_fin = "120s"
    udp     = "300s"
  }
  # IPVS connection sync (keepalived's lvs_sync_daemon): both the master and
  # the backup daemon run on every director, so established connections
  # survive a failover. Kernel defaults unless set.
  ipvs_sync {
    interface = "lo"       # the link sync messages use, e.g. "eth1"; warned if missing here
    instance  = "VI_1"     # a vrrp_instance of this file
    sync_id   = 51         # 0..255; default: the instance's virtual_router_id
    port      = 8848       # UDP port
    ttl       = 1          # multicast TTL
    group     = "224.0.0.81"
    # max_len = 1472       # largest payload; default from the interface's MTU
    # net.ipv4.vs sysctls, set when given: sync_version (1), sync_threshold (3),
    # sync_period (50), sync_refresh_period ("0s"), sync_retries (0),
    # sync_qlen_max, sync_sock_size (0), sync_ports (1), sync_persist_mode (0)
  }
}

# Trackers (keepalived's): > 0 weights are added to the priority while the
# tracker passes, < 0 while it fails, 0 puts the instance in FAULT while it fails.
# vrrp_script "chk_haproxy" {
#   command  = ["/usr/bin/pidof", "haproxy"]  # argv, never a shell; only root may be able to modify it
#   interval = "2s"
#   timeout  = "1s"                 # default: the interval; the process group is killed
#   rise     = 2
#   fall     = 3
#   weight   = -50
#   user     = "nobody"             # default: global script_user, else havsd_script if it exists, else root
#   init_fail = true                # failed from the start until rise passes (keepalived's init_fail)
# }
track_file "maint" {
  path   = "/run/havsd/maint"       # holds an integer; priority += value x weight
  weight = 1
  # reverse = true                  # any tracker (or its use): the adjustment turns around (keepalived's "weight N reverse")
}
track_process "haproxy" {
  name   = "haproxy"                # the process's comm; match = "args" compares the full command line
  quorum = 1                        # processes needed (quorum_max: at most)
  delay  = "0s"                     # how long a change must last before it counts
  weight = 0
  # param_match = "partial"         # with match = "args": more arguments may follow ("initial": the last may be longer too)
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100          # 1..254; 255 only for the address owner
  version           = 3            # 2 or 3
  family            = "ipv4"       # or "ipv6" (version 3 only)
  advert_interval   = "1s"         # v2: whole seconds
  preempt           = true
  preempt_delay     = "0s"
  dont_track_primary = false       # true: keep running while interface is down (keepalived's); default: FAULT, VIPs released
  yield_timeout     = "0s"         # after a handover this backup yields (no preempt) until the new master fails, havsd resume, the next handover back, or this long (0s: no time limit)
  # auth_pass       = "secret"     # v2 only, at most 8 bytes
  virtual_ipaddress = ["172.25.254.100/24", "172.25.254.101/24"]
  vip {                            # alternative long form, for another device
    address = "192.168.0.1/24"
    dev     = "eth1"
  }
  unicast_source = "10.0.0.1"      # unicast mode when peers are given
  unicast_peers  = ["10.0.0.2"]
  track_interface "eth1" {
    weight = 0                     # 0: fault while down; N > 0: added while up; N < 0: added while down
    # reverse = true               # N > 0: taken off while up; N < 0: added while down (not with 0)
  }
  # track_script "chk_haproxy" {}  # a vrrp_script (below); may override its weight
  track_file "maint" {
    weight = -1                    # overrides the track_file's own weight
  }
  track_process "haproxy" {}
  track_service "web" {
    weight = 60                    # lower priority by 60 while service "web" has lost quorum
  }
  notify {                         # argv lists, never a shell; only root may be able to modify the program
    master = ["/usr/bin/logger", "-t", "havsd", "master"]
    backup = ["/usr/bin/logger", "-t", "havsd", "backup"]
    fault  = ["/usr/bin/logger", "-t", "havsd", "fault"]
    stop   = ["/usr/bin/logger", "-t", "havsd", "stop"]
    # generic = ["/usr/local/bin/notify-all"]  # every transition, + INSTANCE name MASTER|BACKUP|FAULT|STOP priority
  }
  garp {
    count        = 5
    interval     = "0s"
    repeat_delay = "5s"
    repeat_count = 5
    refresh      = "0s"
  }
}

vrrp_sync_group "G1" {
  instances = ["VI_1"]             # e.g. ["VI_1", "VI_2"]: they change state together
}

bgp {                                          # active/active: announce VIPs to routers over BGP for ECMP
  asn         = 65001
  router_id   = "172.25.254.11"                # an IPv4 address, often the director's own
  communities = ["65000:100"]                  # on every announced route
  # listen_port = 179                          # accept sessions too; default 0: connect only
  drain_for   = "20s"                          # havsd drain and a stop wait at most this for active connections to end
  graceful_shutdown = false                    # true: a stop re-announces with GRACEFUL_SHUTDOWN (RFC 8326) instead of withdrawing
  neighbor "172.25.254.1" {                    # IPv4 neighbours carry the IPv4 VIPs, IPv6 ones the IPv6 VIPs
    asn       = 65000
    hold_time = "9s"                           # keepalive a third of it; default 90s
    # password = "secret"                      # TCP MD5
    # source   = "172.25.254.11"               # default: the kernel chooses
    # multihop = 2                             # eBGP multihop TTL; default: directly connected
    # port     = 179
  }
}

virtual_service "web" {
  protocol            = "tcp"                  # tcp | udp | sctp
  address             = "172.25.254.100:80"    # IPv6: "[2001:db8::1]:80"
  # fwmark            = 66                     # instead of protocol+address
  # family            = "ipv6"                 # only with fwmark; default ipv4
  scheduler           = "wrr"                  # default wlc
  # sched_flags       = ["sh-port", "sh-fallback"]   # only with scheduler sh (mh-* with mh)
  persistence         = "300s"                 # ipvsadm -p
  persistence_netmask = "255.255.255.0"        # ipvsadm -M (IPv6: a prefix length, "64")
  persistence_engine  = "sip"
  instance            = "VI_1"                 # the VRRP instance that carries this VIP
  announce            = "vrrp"                 # default: the instance moves the VIP | bgp: see "edge"
  quorum              = 1
  hysteresis          = 0
  drain_for           = "30s"                  # graceful removal of a real server dropped from the config
  forward             = "nat"                  # default for real servers: nat | dr | tun | fullnat
  # tun_type          = "gue"                  # with forward = "tun": ipip (default) | gue | gre (kernel 5.3+)
  # tun_port          = 6080                   # the real servers' GUE port (gue only)
  # tun_flags         = "csum"                 # gue, gre: nocsum (default) | csum | remcsum (gue only)
  # ops               = true                   # one-packet scheduling, udp only (ipvsadm -o)
  inhibit_on_failure  = true                   # default for real servers
  # sorry_server_inhibit = true                # the sorry server stays in the table at weight 0 while quorum holds
  # quorum_up   = ["/usr/bin/logger", "-t", "havsd", "up"]     # run when quorum is gained (as script_user)
  # quorum_down = ["/usr/bin/logger", "-t", "havsd", "down"]   # run when it is lost

  check "https" {                              # service-level: applies to reals with no check of their own
    interval           = "2s"
    timeout            = "1s"
    retry              = 3
    delay_before_retry = "1s"
    rise               = 1
    warmup             = "2s"
    alpha              = false
    port               = 80                    # default: the real server's port
    source             = "192.168.0.1"
    # connect_ip       = "192.168.0.150"         # check this address, not the real server's (all kinds but script)
    # bind_if          = "eth1"                  # bind the check's socket to an interface (not ping, script)
    path               = "/health"
    host               = "www.example.com"
    status             = ["200-299", "301"]
    digest             = "9b3a0c85a887a256d6939da88aabd8cd"
    regex              = "ok"
    # regex_no_match   = true                    # the body must NOT match regex
    # url { path = "/ready" status = ["200"] }   # http, https: more URLs, each a check with these settings; all must pass
    # tls_ca           = "/etc/havsd/ca.pem"     # https, with tls_verify: the CA that signs the servers
    # tls_cert         = "/etc/havsd/client.pem" # https: client certificate (with tls_key)
    # tls_key          = "/etc/havsd/client.key"
    tls_server_name    = "www.example.com"       # https only
    tls_verify         = false                   # https only
    max_body           = 65536
  }

  real_server "192.168.0.101:80" {
    weight          = 2
    forward         = "fullnat"
    snat_source     = "192.168.0.1"           # fullnat only
    upper_threshold = 0
    lower_threshold = 0
    # notify_up   = ["/usr/bin/logger", "-t", "havsd", "rs-up"]   # run when the checks find it up (as script_user)
    # notify_down = ["/usr/bin/logger", "-t", "havsd", "rs-down"] # and down
    check "tcp" {
      interval = "1s"
    }
    check "script" {
      command = ["/usr/local/bin/check", "--fast"]
      # misc_dynamic = true        # exit 2-255 sets the weight to the status - 2 (keepalived's misc_dynamic)
    }
    # track_file "maint" { weight = 10 }  # keepalived's FILE_CHECK: value x weight added to the weight; 0: down while not 0
    # check "udp"  { payload = "ping" expect_reply = true }
    # check "dns"  { query_name = "example.com" query_type = "A" }
    # check "ping" {}
    # check "smtp" { helo_name = "lb.example.com" }   # 220 greeting, HELO answered 250; port defaults to 25
  }

  sorry_server "192.168.0.200:80" {
    forward = "nat"
  }
}

virtual_service_group "dns" {                 # keepalived's virtual_server_group: members sharing one pool
  address = ["172.25.254.100:53", "172.25.254.101:53"]   # with the service's protocol
  fwmark  = [53]
}

virtual_service "dns" {                        # one IPVS service per member, named "dns/172.25.254.100:53", "dns/fwmark-53"
  group    = "dns"                             # instead of address or fwmark
  protocol = "udp"
  check "udp" {}                               # each real server is checked once for all members
  real_server "192.168.0.101:53" {}
}

virtual_service "fw66" {
  fwmark      = 66
  scheduler   = "rr"
  persistence = "3000s"
  classify {                                   # havsd owns the nftables rule that sets the mark
    address  = "172.25.254.101"                # not .100: a marked port is lost to "web" (IPVS looks up fwmark first)
    protocol = "tcp"
    ports    = [80, 443]
  }
  real_server "192.168.0.101" { forward = "dr" }
  real_server "192.168.0.102" {
    forward  = "tun"                           # real servers take tun_type, tun_port, tun_flags too
    tun_type = "gre"
  }
}

virtual_service "edge" {
  address  = "172.25.254.110:443"
  announce = "bgp"                             # announced by the bgp block while this director can serve it
  # scheduler = "mh"                           # the default here: every director sends a flow to the same real server
  real_server "192.168.0.111:443" {}
}
