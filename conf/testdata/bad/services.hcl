# Virtual service and real server errors.
virtual_service "web" {
  protocol    = "tcp"
  address     = "172.25.254.100:80"
  scheduler   = "wrrr"
  sched_flags = ["sh-port"]
  quorum      = 3
  hysteresis  = 5
  real_server "192.168.0.101:80" {
    weight = -2
  }
  real_server "192.168.0.101" {
    upper_threshold = 10
    lower_threshold = 20
  }
  real_server "2001:db8::10:80" {
  }
  real_server "192.168.0.102:8080" {
    forward = "dr"
  }
  real_server "192.168.0.103:80" {
    forward     = "nat"
    snat_source = "192.168.0.1"
  }
  real_server "192.168.0.104:80" {
    forward = "masq"
  }
}

virtual_service "web2" {
  address   = "172.25.254.100:80"
  scheduler = "sh"
  sched_flags = ["mh-port", "sh-port", "sh-port", "flag-1"]
  persistence_netmask = "255.0.255.0"
  persistence_engine  = "sip"
}

virtual_service "fw" {
  fwmark   = 66
  address  = "172.25.254.100:443"
  real_server "192.168.0.101" {}
}

virtual_service "fw6" {
  fwmark      = 67
  family      = "ipv6"
  protocol    = "tcp"
  persistence = "1.5s"
  classify {
    address = "172.25.254.100"
    ports   = [80, 443, 70000]
  }
  real_server "192.168.0.101" {}
}

virtual_service "empty" {
  address = "172.25.254.100:81"
  quorum  = 1
  forward = "fullnat"
}

virtual_service "noport" {
  protocol = "icmp"
  address  = "172.25.254.100"
  classify {
    address = "172.25.254.100"
  }
}

virtual_service "nokey" {
  scheduler = "rr"
}

virtual_service "marked" {
  fwmark = 70
  classify {
    address = "172.25.254.100"
    ports   = [80]
  }
  real_server "192.168.0.101" {}
}
