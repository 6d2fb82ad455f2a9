# havsd configuration: see havsd.hcl(5), and the examples in
# /usr/share/doc/havsd/examples (config-sketch.hcl shows every setting).
#
# As shipped, havsd does nothing: no VRRP instance, no virtual service.
# Write yours, check it, then start the director:
#
#   havsd check -f /etc/havsd/havsd.hcl
#   systemctl enable --now havsd
#   systemctl reload havsd          # after each edit; fails if the file is invalid

global {
  router_id      = "lvs1"                      # this director's name in logs and status
  control_socket = "/run/havsd/havsd.sock"     # havsd status, reload, handover talk to it
  metrics_listen = "127.0.0.1:9473"            # Prometheus metrics; remove to disable
  # log_level    = "info"
}

# One virtual address floated between two directors by VRRP. The same file
# runs on both; give the preferred master a higher priority.
#
# vrrp_instance "VI_1" {
#   interface         = "eth0"
#   virtual_router_id = 51
#   priority          = 100
#   advert_interval   = "1s"
#   virtual_ipaddress = ["192.0.2.10/24"]
# }

# A virtual service on that address, balanced over two real servers with an
# HTTP health check (keepalived's virtual_server / real_server / HTTP_GET).
#
# virtual_service "web" {
#   protocol  = "tcp"
#   address   = "192.0.2.10:80"
#   scheduler = "wlc"
#   forward   = "nat"
#   instance  = "VI_1"
#
#   check "http" {
#     interval = "2s"
#     timeout  = "1s"
#     path     = "/"
#   }
#
#   real_server "198.51.100.11:80" {}
#   real_server "198.51.100.12:80" {}
# }
