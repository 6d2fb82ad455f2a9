# Services announced by BGP without a bgp block.
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.10"]
}

virtual_service "web" {
  address  = "192.0.2.20:80"
  announce = "bgp"
  real_server "10.0.1.1:80" {}
}

virtual_service "api" {
  address   = "192.0.2.21:80"
  announce  = "bgp"
  instance  = "VI_1"
  scheduler = "wlc"
  real_server "10.0.1.1:80" {}
}
