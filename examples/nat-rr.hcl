# Tutorial section 4.1: the NAT cluster, round robin.
#
#   ipvsadm -A -t 172.0.0.30:80 -s rr
#   ipvsadm -a -t 172.0.0.30:80 -r 192.168.1.10:80 -m
#   ipvsadm -a -t 172.0.0.30:80 -r 192.168.1.20:80 -m
#
# The same file runs on both directors. With equal priorities the director
# with the higher primary address becomes master (RFC 5798 6.4.3); to prefer
# one, give it a higher priority (e.g. 150) in its copy.
#
# NAT needs the real servers' replies to come back through the master, so
# the master also holds the real servers' gateway: 192.168.0.100, the
# director's internal address in the tutorial (4.1.1). net.ipv4.ip_forward
# is set by havsd (set_sysctls, on by default).

vrrp_instance "VI_NAT" {
  interface         = "eth0"
  virtual_router_id = 30
  priority          = 100
  advert_interval   = "1s"
  auth_pass         = "lvs-nat"
  virtual_ipaddress = ["172.0.0.30/24"]
  vip {
    address = "192.168.0.100/24"
    dev     = "eth1"
  }
}

# Both addresses move together, so a NAT director never holds one without
# the other.
vrrp_sync_group "NAT" {
  instances = ["VI_NAT"]
}

virtual_service "web" {
  protocol  = "tcp"
  address   = "172.0.0.30:80"
  scheduler = "rr"
  forward   = "nat"
  instance  = "VI_NAT"

  check "http" {
    interval = "2s"
    timeout  = "1s"
    path     = "/"
  }

  real_server "192.168.1.10:80" {}
  real_server "192.168.1.20:80" {}
}
