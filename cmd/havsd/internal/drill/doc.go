// Package drill measures a failover as a client sees it: it probes a target
// (ICMP echo, TCP connect or HTTP GET) at a fixed interval from a vantage
// point (optionally inside a network namespace), triggers an event, and
// computes the reachability gap, the lost probes, when the VIP moved and when
// the first gratuitous ARP reached the client, over several repetitions, with
// the availability those figures imply for a given MTBF.
//
// The analysis (gap from a probe log, statistics, availability) is pure and
// separate from the probing, the watching and the orchestration.
package drill
