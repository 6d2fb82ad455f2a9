// Package vrrp implements the Virtual Router Redundancy Protocol (RFC 3768
// version 2, RFC 5798 version 3): the advert codec, the timers, the state
// machine and the sockets that let directors float virtual addresses between
// them.
package vrrp
