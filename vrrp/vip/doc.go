// Package vip adds and removes virtual addresses with netlink and announces
// them with gratuitous ARP (IPv4) and unsolicited neighbour advertisements
// (IPv6), in bursts.
package vip
