# A syntax error stops at the parser.
virtual_service "web" {
  address = "172.25.254.100:80"
  real_server "192.168.0.101:80" {
    weight = 
  }
