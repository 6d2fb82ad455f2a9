# Tutorial section 4.2: the DR cluster.
#
#   ipvsadm -A -t 192.168.0.100:80 -s rr
#   ipvsadm -a -t 192.168.0.100:80 -r 192.168.0.101:80 -g
#   ipvsadm -a -t 192.168.0.100:80 -r 192.168.0.102:80 -g
#
# The directors sit on 192.168.0.0/24 (DIP 192.168.0.200 on the first; give
# the second another address, e.g. 192.168.0.201). The VIP 192.168.0.100
# floats between them. Each real server holds the VIP on lo with
# arp_ignore=1 and arp_announce=2 (section 4.2.2): `havsd realserver --vip
# 192.168.0.100 --mode dr` does that. DR cannot map ports, so the real
# servers listen on port 80.

vrrp_instance "VI_DR" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 100
  virtual_ipaddress = ["192.168.0.100/24"]
}

virtual_service "web" {
  address   = "192.168.0.100:80"
  scheduler = "rr"
  forward   = "dr"
  instance  = "VI_DR"

  check "http" {
    interval = "2s"
    timeout  = "1s"
    status   = ["200-299"]
  }

  real_server "192.168.0.101:80" {}
  real_server "192.168.0.102:80" {}
}
