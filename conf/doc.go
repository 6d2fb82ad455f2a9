// Package conf loads havsd's HCL configuration, validates it in a separate
// pass that reports every problem with its source range, compiles it to the
// typed models of vrrp, lvs and checks, and says what changed between two
// configurations.
//
// The language is the one of doc/config-sketch.hcl; examples/full.hcl shows
// every feature. Load and LoadBytes parse (hclparse), decode against
// explicit schemas, validate and compile; Source.WriteDiagnostics prints the
// diagnostics as file:line:col with the source line and carets. Diff
// compares two Configs, Format writes one back as HCL and FromIPVS builds
// one from an IPVS table (havsd import); the table a Config means is the
// director's Configured (havsd export).
//
// Defaults follow keepalived and ipvsadm: scheduler wlc, forwarding nat
// (masq), weight 1, VRRP version 2, priority 100, advert interval 1s,
// preempt on, gratuitous ARP 5 then 5 more after 5s, check interval 60s
// (keepalived's delay_loop), timeout 5s, retry 1, rise 1, delay before retry
// 1s. Durations are strings with units ("300s", "100ms"); persistence has no
// default timeout because it is always written as a duration. A full-NAT
// real server without snat_source is source-NATed to the address of the
// interface the packet leaves by (masquerade).
package conf
