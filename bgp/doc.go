// Package bgp announces havsd's virtual addresses to routers over BGP, for
// active/active directors behind an ECMP router.
//
// A Speaker embeds GoBGP (github.com/osrg/gobgp/v4): the sessions, the
// finite-state machine, the wire format and the RIB are GoBGP's; this package
// only turns havsd's wanted state into GoBGP calls and reads GoBGP back.
//
// # One owner, reconcile
//
// The goroutine running Run owns the GoBGP server. SetRoutes hands it the
// wanted set of routes (latest wins, never blocking); Reconfigure hands it a
// new configuration and waits for the answer. The owner reads GoBGP's local
// RIB, compares it with the wanted set and applies only the difference
// (announce what is missing or differs, withdraw what is no longer wanted),
// after each change and periodically, so a route GoBGP lost is put back.
// Status asks the owner, which reads GoBGP's neighbours and RIB: it reports
// what the engine has, not what was asked for.
//
// Each announce, withdraw and neighbour state change is logged once with the
// reason. A neighbour that cannot peer (wrong ASN, connection refused, TCP MD5
// mismatch) shows its state and last error in Status and the log; it never
// stops the speaker.
//
// Routes are host routes (/32, /128) with next hop self unless a next hop is
// given. An IPv4 neighbour carries IPv4 unicast and an IPv6 neighbour IPv6
// unicast, so the next hop GoBGP fills in is always the session's own local
// address. Routes received from neighbours are rejected on import: a director
// announces, it does not route.
//
// # Why GoBGP v4
//
// v4 (4.8.0) rather than v3 (3.37.0), for three reasons. Logging: v4 logs
// through a *slog.Logger given with server.LoggerOption, the logger havsd
// uses everywhere; v3 has its own Logger interface (fields maps, logrus by
// default) that would need an adapter and pulls in logrus. API: v4's path
// calls (AddPath, DeletePath, ListPath) take and return Go values (bgp.NLRI,
// netip.Addr, path attributes) instead of protobuf Any messages, so the code
// here builds and reads routes without marshalling; v4 is the current major
// version. Weight: both embed the same server with the same
// gRPC and protobuf dependencies, so neither is lighter. Linking the
// speaker adds about 16 MB to the havsd binary (11.5 MB stripped; Go 1.26,
// amd64, against the same tree with a GoBGP-free stub of this package), and
// GoBGP's package initialisation runs in every havsd command.
// The gRPC API server is not started (no GrpcListenAddress), nothing of
// GoBGP runs before Run, GoBGP keeps tables for IPv4 and IPv6 unicast only
// (an idle speaker holds about 1.5 MB of heap), and the configuration
// package checks communities with bgp/community, which does not link GoBGP.
package bgp
