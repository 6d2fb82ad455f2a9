# ipvs_sync errors.
global {
  ipvs_sync {
    interface      = "hvnosuch0"
    instance       = "VI_2"
    sync_id        = 256
    port           = 0
    group          = "10.0.0.1"
    sync_version   = 2
    sync_threshold = 60
  }
  ipvs_sync {
    interface = "eth1"
    instance  = "VI_2"
  }
  ipvs_sync {
    interface = "eth1"
    instance  = "VI_1"
  }
}

vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
}
