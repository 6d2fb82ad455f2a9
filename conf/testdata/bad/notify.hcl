global {
  notify_fifo = "run/notify.fifo"
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.1"]
  notify {
    generic = []
  }
}

virtual_service "web" {
  address   = "192.0.2.1:80"
  quorum_up = []
  real_server "10.0.0.1" {
    notify_down = ["havsd-no-such-program"]
  }
}
