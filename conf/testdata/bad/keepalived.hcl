# keepalived habits: its keywords get havsd's names, values in upper case
# are read in lower case (with a note), and a misspelt attribute is reported
# instead of the errors that follow from it.
vrrp_instance "VI_1" {
  state             = "MASTER"
  interface         = "eth0"
  virtual_router    = 51
  advert_int        = 1
  virtual_ipadress  = ["10.0.0.1"]
  authentication {
    auth_type = "PASS"
  }
}

virtual_service "web" {
  protocol            = "TCP"
  address             = "10.0.0.1:80"
  lb_kind             = "DR"
  lb_algo             = "wrr"
  scheduler           = "WRR"
  forward             = "DR"
  persistence_timeout = 300
  real_server "10.0.0.2:80" {
    TCP_CHECK {
      connect_timeout = 3
    }
  }
  check "HTTP" {
    status_code = 200
  }
}
