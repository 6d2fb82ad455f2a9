// Package topo builds and tears down a topology of network namespaces for
// labs and multi-host tests: a "switch" namespace holding the bridges, one
// namespace per node (client, directors, real servers), veth pairs, addresses,
// routes and sysctls, and processes started inside the nodes.
//
// Everything it creates is recorded in a state file, so that Down can clean up
// after a crash of the program that built it. The host's own namespace is
// never touched: bridges and the switch ends of the veths live in the switch
// namespace. It drives iproute2 (`ip`), so it needs root and the ip binary.
package netlab
