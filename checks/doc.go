// Package checks probes real servers (TCP, HTTP/HTTPS, script, UDP, DNS,
// ping) and schedules those probes with keepalived's semantics, emitting only
// transitions between up and down.
package checks
