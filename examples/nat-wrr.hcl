# Tutorial section 4.1, step 10: the NAT cluster switched to weighted round
# robin with weights 2:1.
#
#   ipvsadm -E -t 172.25.254.100:80 -s wrr
#   ipvsadm -e -t 172.25.254.100:80 -r 192.168.0.101:80 -m -w 2
#   ipvsadm -e -t 172.25.254.100:80 -r 192.168.0.102:80 -m -w 1
#
# The same file runs on both directors (see nat-rr.hcl). The master holds the
# VIP and the real servers' gateway, 192.168.0.100 (4.1.1).

vrrp_instance "VI_NAT" {
  interface         = "eth0"
  virtual_router_id = 100
  advert_interval   = "1s"
  virtual_ipaddress = ["172.25.254.100/24"]
  vip {
    address = "192.168.0.100/24"
    dev     = "eth1"
  }
}

virtual_service "web" {
  address   = "172.25.254.100:80"
  scheduler = "wrr"
  instance  = "VI_NAT"

  check "tcp" {
    interval = "2s"
    timeout  = "1s"
  }

  real_server "192.168.0.101:80" {
    weight = 2
  }
  real_server "192.168.0.102:80" {
    weight = 1
  }
}
