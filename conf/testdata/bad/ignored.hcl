vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.1"]
}

vrrp_sync_group "G" {
  instances = ["VI_1"]
  notify {
    master = [""]
    backup = []
    stop   = ["/bin/true", "stop"]
  }
}

virtual_service "web" {
  address  = "192.0.2.1:80"
  instance = "VI_1"
  real_server "10.0.0.1" {}
  sorry_server "10.0.0.9" {
    weight = 0
  }
}

virtual_service "marked" {
  fwmark   = 7
  instance = "VI_1"
  real_server "10.0.0.2" {}
}

virtual_service "marked-classified" {
  fwmark   = 8
  instance = "VI_1"
  classify {
    address  = "192.0.2.1"
    protocol = "udp"
    ports    = [53]
  }
  real_server "10.0.0.3" {}
}

virtual_service "no-sorry" {
  address              = "192.0.2.1:81"
  sorry_server_inhibit = true
  real_server "10.0.0.4" {}
}
