# VRRP instance errors: every one must be reported.
vrrp_instance "A" {
  interface         = "eth0"
  virtual_router_id = 0
  priority          = 300
  version           = 2
  family            = "ipv6"
  advert_interval   = "1500ms"
  auth_pass         = "much-too-long"
  virtual_ipaddress = ["172.25.254.100/24"]
}

vrrp_instance "B" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 255
  version           = 3
  advert_interval   = "15ms"
  auth_pass         = "secret"
  virtual_ipaddress = ["172.25.254.100/24", "2001:db8::1/64", "10.0.0.1/33"]
  unicast_source    = "10.0.0.1"
  unicast_peers     = ["10.0.0.2", "fe80::1", "10.0.0.2"]
  preempt_delay     = "2000s"
  track_interface "eth1" {
    weight = -1
  }
  garp {
    count = 1000
  }
}

vrrp_instance "C" {
  interface         = "eth0"
  virtual_router_id = 51
  family            = "ipvx"
  version           = 3
  advert_interval   = "41s"
}

vrrp_instance "B" {
  interface         = ""
  virtual_router_id = 52
}

vrrp_instance "D" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.168.0.2"]
}

vrrp_instance "E" {
  interface         = "eth0"
  virtual_router_id = 53
  virtual_ipaddress = ["192.168.0.1"]
  notify {
    master = []
  }
}
