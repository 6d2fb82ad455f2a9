// Package keepalived reads keepalived's configuration language and converts
// it to havsd's HCL.
//
// Parse reads a keepalived.conf the way keepalived does: blocks delimited by
// braces on any line, '#' and '!' comments, quoted strings with escapes,
// include (with globs, relative to the including file, cycles refused),
// $VARIABLE definitions (multi-line too) and their use, ~SEQ and ~LST lines,
// and '@id' / '@^id' conditional lines evaluated for a configuration id. The
// result is a tree of Nodes, each with the file and line it came from.
//
// Convert turns the tree into a havsd configuration (conf.Config, written by
// conf.Format) and one Diagnostic per keyword it could not carry over, saying
// what the keyword does in keepalived and the closest havsd equivalent.
// Keywords are mapped by a single table (table.go): supporting one more is
// one more row.
//
// Semantics carried over: keepalived's "retry N" means N retries after the
// first failure (havsd retry N+1); check timings default per checker kind as
// keepalived's do (delay_before_retry 3s for HTTP_GET and SSL_GET, the
// delay_loop for DNS_CHECK, 1s otherwise; retry 3 for DNS_CHECK, 0 for
// MISC_CHECK; warmup up to delay_loop); quorum 1 and hysteresis;
// nopreempt is dropped with state MASTER or priority 255, as keepalived does;
// IPv6 instances run VRRPv3.
package keepalived
