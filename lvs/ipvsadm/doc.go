// Package ipvsadm reads and writes IPVS rules in the text format of
// `ipvsadm -S -n` (ipvsadm 1.31): one `-A` line per virtual service followed
// by one `-a` line per real server, services and real servers sorted as
// ipvsadm sorts them.
//
// The format has limits worth knowing: ipvsadm does not save connection
// thresholds (-x, -y), so Format leaves them out unless asked
// (Options.Thresholds); a persistence timeout is whole seconds; real servers
// are always printed with their weight and forwarding switch, and tunnel
// real servers with `--tun-type ipip`.
package ipvsadm
