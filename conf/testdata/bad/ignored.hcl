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
    stop   = ["/usr/local/bin/notify", "stop"]
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
