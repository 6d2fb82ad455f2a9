# Tutorial section 4.3: HTTP and HTTPS of one client must reach the same
# real server. Two services (tcp/80 and tcp/443) are balanced separately; a
# firewall mark puts both ports into one service, and persistence keeps a
# client on one real server:
#
#   ipvsadm -A -f 66 -s rr -p 3000
#   ipvsadm -a -f 66 -r 192.168.0.101 -g
#   ipvsadm -a -f 66 -r 192.168.0.102 -g
#
# havsd owns the packet-filter rule that sets mark 66 on tcp 80 and 443 to
# the VIP (the classify block): no hand-written iptables -t mangle rule.
# Same layout as the DR cluster of section 4.2.

vrrp_instance "VI_DR" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.168.0.100/24"]
}

virtual_service "web_https" {
  fwmark      = 66
  scheduler   = "rr"
  persistence = "3000s"
  forward     = "dr"
  instance    = "VI_DR"

  classify {
    address  = "192.168.0.100"
    protocol = "tcp"
    ports    = [80, 443]
  }

  # A fwmark real server has no port of its own: say which one to check.
  check "tcp" {
    port     = 443
    interval = "2s"
    timeout  = "1s"
  }

  real_server "192.168.0.101" {}
  real_server "192.168.0.102" {}
}
