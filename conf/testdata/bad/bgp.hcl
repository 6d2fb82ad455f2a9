# bgp block errors, and services announced by BGP.
bgp {
  asn         = 65001
  router_id   = "2001:db8::11"
  communities = ["65000:100", "65000", "70000:1"]
  listen_port = 70000

  neighbor "10.0.0.1" {
    asn       = 65000
    hold_time = "2s"
  }
  neighbor "10.0.0.1" {
    asn = 65000
  }
  neighbor "10.0.0.2" {
    hold_time = "9s"
  }
  neighbor "10.0.0.3" {
    asn       = 65000
    hold_time = "4500ms"
    source    = "2001:db8::3"
    multihop  = 0
    port      = 0
  }
  neighbor "not-an-address" {
    asn = 65000
  }
}

bgp {
  asn       = 65002
  router_id = "10.0.0.12"
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.10"]
}

virtual_service "web" {
  address  = "192.0.2.10:80"
  announce = "bgp"
  real_server "10.0.1.1:80" {}
}

virtual_service "api" {
  address  = "192.0.2.11:80"
  announce = "bgpp"
  real_server "10.0.1.1:80" {}
}

virtual_service "marked" {
  fwmark   = 7
  announce = "bgp"
  real_server "10.0.1.1:80" {}
}
