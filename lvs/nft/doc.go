// Package nft programs the packet-filter rules havsd owns, in an nftables
// table of its own (inet havsd by default): firewall-mark classification for
// fwmark services (mangle prerouting) and the source NAT that turns a masq
// real server into full-NAT (nat postrouting). The table is rebuilt in one
// atomic batch when the desired rules differ from what the kernel holds, and
// nothing outside it is touched.
package nft
