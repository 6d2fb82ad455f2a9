# Sync group errors.
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["172.25.254.100/24"]
}

vrrp_instance "VI_2" {
  interface         = "eth1"
  virtual_router_id = 52
  virtual_ipaddress = ["192.168.0.1/24"]
}

vrrp_sync_group "G1" {
  instances = ["VI_1", "VI_3", "VI_1"]
}

vrrp_sync_group "G2" {
  instances = ["VI_2", "VI_1", "vi_2"]
}

vrrp_sync_group "G3" {
  instances = []
}

virtual_service "web" {
  address  = "172.25.254.100:80"
  instance = "VI_9"
  real_server "192.168.0.101:80" {}
}

virtual_service "api" {
  address  = "172.25.254.100:81"
  instance = "VI_2"
  real_server "192.168.0.101:81" {}
}

virtual_service "marked" {
  fwmark   = 5
  instance = "VI_1"
  classify {
    address = "192.168.0.1"
  }
  real_server "192.168.0.101" {}
}
