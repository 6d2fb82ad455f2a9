global {
  script_user = "pa-no-such-user"
}

vrrp_script "chk_haproxy" {
  command  = ["/usr/bin/pidof", "haproxy"]
  interval = "2s"
  rise     = 0
  fall     = 3
  weight   = -300
}

vrrp_script "chk_haproxy" {
  command = ["/bin/true"]
}

vrrp_script "missing" {
  command = ["havsd-no-such-program", "x"]
}

vrrp_script "empty" {
  command = []
  user    = "pa-no-such-user"
}

track_file "maint" {
  path   = "run/maint"
  weight = 300
}

track_process "haproxy" {
  name       = "haproxy-with-a-long-name"
  quorum     = 2
  quorum_max = 1
}

track_process "proc2" {
  name  = "x"
  match = "argv"
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.1"]
  track_script "chk_haproxi" {}
  track_file "maint" {
    weight = -255
  }
  track_process "haproxy" {}
  track_process "haproxy" {}
  track_interface "eth1" {
    weight = 255
  }
}

vrrp_sync_group "G" {
  instances = ["VI_1"]
  track_file "maint" {}
}
