// Package lab runs a pair of directors (havsd or keepalived) in a namespace
// topology built by netlab: it writes their configurations, starts
// them and tiny HTTP responders, knows who is master from the VIP, and
// provides the failover events a drill triggers (crash, link, stop,
// handover) with the way back to a steady pair.
package lab
