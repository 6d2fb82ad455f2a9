# Wrong types, unknown attributes and blocks, duplicate blocks.
global {
  router_id     = ["lvs1"]
  prune_foreign = "maybe"
  colour        = "blue"
}

global {
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51.5
  priority          = "high"
  virtual_ipaddress = "172.25.254.100/24"
  garp {}
  garp {}
}

vrrp_instance "VI_2" {
  virtual_router_id = 52
  virtual_ipaddress = [var.vip]
}

virtual_service "web" {
  address = "172.25.254.100:80"
  weight  = 3
  real_server "not-an-address" {}
  realserver "192.168.0.101:80" {}
  sorry_server "192.168.0.200:80" {}
  sorry_server "192.168.0.201:80" {}
}
