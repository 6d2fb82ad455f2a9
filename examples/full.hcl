# Every feature of the havsd configuration, in one file. `havsd check -f
# examples/full.hcl` accepts it; `havsd export -f examples/full.hcl` prints
# the IPVS rules it means. Durations are strings with units ("1s", "100ms").

global {
  router_id          = "lvs1"
  control_socket     = "/run/havsd/havsd.sock"
  metrics_listen     = "127.0.0.1:9473"
  log_format         = "json"
  log_level          = "info"
  ipvs_mode          = "always"       # warm standby; "master": IPVS on the master only
  reconcile_interval = "10s"
  prune_foreign      = false
  set_sysctls        = true
  ipvs_timeouts {
    tcp     = "900s"
    tcp_fin = "120s"
    udp     = "300s"
  }
}

# VRRPv2 on the public side: whole-second adverts, simple password.
vrrp_instance "VI_PUBLIC" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  version           = 2
  advert_interval   = "1s"
  preempt           = true
  preempt_delay     = "5s"
  auth_pass         = "s3cret"
  virtual_ipaddress = ["172.25.254.100/24", "172.25.254.101/24"]
  track_interface "eth1" {
    weight = 0                        # fault when eth1 is down
  }
  track_interface "eth2" {
    weight = 50                       # priority 150 -> 100 while eth2 is down
  }
  track_service "web" {
    weight = 60                       # priority 150 -> 90 while "web" has lost quorum
  }
  notify {
    master = ["/usr/bin/logger", "-t", "havsd", "master", "VI_PUBLIC"]
    backup = ["/usr/bin/logger", "-t", "havsd", "backup", "VI_PUBLIC"]
    fault  = ["/usr/bin/logger", "-t", "havsd", "fault", "VI_PUBLIC"]
    stop   = ["/usr/bin/logger", "-t", "havsd", "stop", "VI_PUBLIC"]
  }
  garp {
    count        = 5
    interval     = "10ms"
    repeat_delay = "5s"
    repeat_count = 5
    refresh      = "60s"
  }
}

# The real servers' gateway for NAT, on the private side.
vrrp_instance "VI_PRIVATE" {
  interface         = "eth1"
  virtual_router_id = 52
  priority          = 150
  version           = 3
  advert_interval   = "100ms"         # v3: centiseconds
  preempt           = false
  vip {
    address = "192.168.0.1/24"
    dev     = "eth1"
  }
  unicast_source = "192.168.0.2"      # unicast: adverts from others are dropped
  unicast_peers  = ["192.168.0.3"]
}

# IPv6 needs VRRPv3.
vrrp_instance "VI_V6" {
  interface         = "eth0"
  virtual_router_id = 51
  family            = "ipv6"
  version           = 3
  advert_interval   = "1s"
  virtual_ipaddress = ["2001:db8::100/64"]
}

vrrp_sync_group "DIRECTOR" {
  instances = ["VI_PUBLIC", "VI_PRIVATE"]
  notify {
    master = ["/usr/bin/logger", "-t", "havsd", "group-master"]
  }
}

# NAT with a weighted scheduler, an HTTP check, quorum, a sorry server,
# graceful removal and thresholds.
virtual_service "web" {
  protocol           = "tcp"
  address            = "172.25.254.100:80"
  scheduler          = "wrr"
  instance           = "VI_PUBLIC"
  forward            = "nat"
  inhibit_on_failure = true           # failed servers stay at weight 0
  quorum             = 2              # sum of live weights
  hysteresis         = 1
  drain_for          = "30s"

  check "http" {
    interval           = "2s"
    timeout            = "1s"
    retry              = 3
    delay_before_retry = "500ms"
    rise               = 2
    warmup             = "2s"
    alpha              = true
    path               = "/health"
    host               = "www.example.com"
    status             = ["200-299", "301"]
    digest             = "9b3a0c85a887a256d6939da88aabd8cd"
    regex              = "ok"
    max_body           = 65536
  }

  real_server "192.168.0.101:80" {
    weight          = 2
    upper_threshold = 1000
    lower_threshold = 800
  }
  real_server "192.168.0.102:8080" {  # NAT maps ports
    weight = 1
  }
  real_server "192.168.0.103:80" {
    weight             = 1
    inhibit_on_failure = false        # removed from IPVS while failed
    check "tcp" {
      interval = "1s"
      source   = "192.168.0.2"
    }
  }

  sorry_server "192.168.0.200:80" {}
}

# HTTPS with full-NAT (masq plus SNAT on the director), source hashing on
# the port with fallback, and a TLS check.
virtual_service "web_tls" {
  address     = "172.25.254.100:443"
  scheduler   = "sh"
  sched_flags = ["sh-port", "sh-fallback"]
  forward     = "fullnat"
  instance    = "VI_PUBLIC"

  check "https" {
    interval        = "5s"
    path            = "/"
    tls_server_name = "www.example.com"
    tls_verify      = true
  }

  real_server "10.1.0.11:8443" {
    snat_source = "10.1.0.1"          # without it, the outgoing interface's address
  }
  real_server "10.1.0.12:8443" {}
}

# SIP over UDP: persistence by /24 with the SIP persistence engine, checked
# by a script.
virtual_service "sip" {
  protocol            = "udp"
  address             = "172.25.254.101:5060"
  scheduler           = "lc"
  persistence         = "300s"
  persistence_netmask = "255.255.255.0"
  persistence_engine  = "sip"

  check "script" {
    command  = ["/usr/local/bin/check-sip", "--timeout", "1"]
    interval = "10s"
    timeout  = "3s"
  }

  real_server "192.168.0.121:5060" {}
  real_server "192.168.0.122:5060" {}
}

# DNS over UDP with DR and a DNS check.
virtual_service "dns" {
  protocol  = "udp"
  address   = "172.25.254.101:53"
  scheduler = "mh"
  sched_flags = ["mh-port"]
  forward   = "dr"

  check "dns" {
    query_name = "example.com"
    query_type = "A"
    interval   = "5s"
  }

  real_server "192.168.0.131:53" {}
  real_server "192.168.0.132:53" {
    check "udp" {
      payload      = "ping"
      expect_reply = true
    }
  }
}

# SCTP through an IP-in-IP tunnel, checked by ping.
virtual_service "diameter" {
  protocol  = "sctp"
  address   = "172.25.254.101:3868"
  scheduler = "sed"
  forward   = "tun"

  check "ping" {
    interval = "3s"
  }

  real_server "10.2.0.11:3868" {}
  real_server "10.2.0.12:3868" { weight = 3 }
}

# A firewall-mark service: tcp 80 and 443 of one VIP balanced together
# (tutorial 4.3), plus udp 443 (QUIC). havsd sets the mark.
virtual_service "web_all" {
  fwmark      = 66
  scheduler   = "rr"
  persistence = "3000s"
  forward     = "dr"

  classify {
    address  = "172.25.254.101"
    protocol = "tcp"
    ports    = [80, 443]
  }
  classify {
    address  = "172.25.254.101"
    protocol = "udp"
    ports    = [443]
  }

  check "tcp" {
    port = 80
  }

  real_server "192.168.0.141" {}
  real_server "192.168.0.142" {}
}

# IPv6: an address service and a fwmark service of family ipv6.
virtual_service "web6" {
  address   = "[2001:db8::100]:80"
  scheduler = "twos"                  # Linux 6.2+; checked at start-up
  forward   = "nat"
  instance  = "VI_V6"

  real_server "[2001:db8:1::11]:80" {}
  real_server "[2001:db8:1::12]:80" {}
}

virtual_service "web6_mark" {
  fwmark              = 67
  family              = "ipv6"
  scheduler           = "wlc"
  persistence         = "600s"
  persistence_netmask = "64"

  classify {
    address = "2001:db8::100"
    ports   = [443]
  }

  real_server "2001:db8:1::11" { forward = "dr" }
}
