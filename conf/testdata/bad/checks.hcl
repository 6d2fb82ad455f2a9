# Health check errors.
virtual_service "web" {
  address = "172.25.254.100:80"
  check "htp" {
    path = "/"
  }
  check "tcp" {
    path     = "/health"
    interval = "0s"
    retry    = -1
  }
  real_server "192.168.0.101:80" {
    check "http" {
      status = ["200-299", "99", "302-301"]
      digest = "abc"
      regex  = "(("
      tls_verify = true
    }
    check "script" {
      timeout = "0s"
    }
    check "dns" {
      query_type = "AAA"
      source     = "2001:db8::1"
    }
  }
}

virtual_service "fw" {
  fwmark = 66
  check "tcp" {
    interval = "5s"
  }
  real_server "192.168.0.101" {}
  real_server "192.168.0.102" {
    check "http" {
      port = 0
    }
  }
}
