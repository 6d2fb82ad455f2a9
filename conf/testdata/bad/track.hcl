vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["10.0.0.100/24"]
  track_service "web" {
    weight = 300
  }
  track_service "nosuch" {
    weight = 10
  }
  track_service "web" {
  }
}

virtual_service "web" {
  protocol = "tcp"
  address  = "10.0.0.100:80"
  instance = "VI_1"
  real_server "10.0.1.1:80" {}
}
