# Durations are strings with units.
global {
  reconcile_interval = "fast"
  log_level          = "verbose"
  ipvs_mode          = "backup"
  metrics_listen     = "9473"
  ipvs_timeouts {
    tcp = "900.5s"
  }
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  advert_interval   = 10
  preempt_delay     = "-1s"
  virtual_ipaddress = ["172.25.254.100/24"]
}

virtual_service "web" {
  address     = "172.25.254.100:80"
  persistence = "10"
  drain_for   = "30 s"
  real_server "192.168.0.101:80" {}
}
