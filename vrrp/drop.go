package vrrp

// DropReason says why a received advert was discarded. The zero value is
// invalid.
type DropReason uint8

// Drop reasons, counted per instance.
const (
	DropInvalid   DropReason = iota // not a drop reason
	DropTTL                         // IPv4 TTL or IPv6 hop limit is not 255
	DropChecksum                    // checksum does not verify
	DropVersion                     // version is not the configured one
	DropType                        // type is not ADVERTISEMENT
	DropVRID                        // VRID of no instance here
	DropAuth                        // v2 authentication type or password mismatch
	DropAddrCount                   // number of addresses differs from ours
	DropAddrList                    // address list differs from ours
	DropOwn                         // our own advert looped back
	DropInterval                    // v2 advert interval differs from ours
	DropNotPeer                     // sender not among the unicast peers
	DropTruncated                   // shorter than its address count says
	DropLength                      // longer than its address count says
	DropFamily                      // address family differs from the instance's
	numDropReasons

	// dropSibling: the VRID of another instance of ours on the same
	// interface (Options.SiblingVRIDs); ignored, not counted.
	dropSibling DropReason = 255
)

var dropNames = [...]string{
	DropInvalid:   "invalid",
	DropTTL:       "ttl",
	DropChecksum:  "checksum",
	DropVersion:   "version",
	DropType:      "type",
	DropVRID:      "vrid",
	DropAuth:      "auth",
	DropAddrCount: "address_count",
	DropAddrList:  "address_list",
	DropOwn:       "own_packet",
	DropInterval:  "interval",
	DropNotPeer:   "not_peer",
	DropTruncated: "truncated",
	DropLength:    "length",
	DropFamily:    "family",
}

// String returns the reason's metric label, e.g. "checksum".
func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return "unknown"
}

// DropReasons lists every valid reason, for metrics that pre-declare labels.
func DropReasons() []DropReason {
	rs := make([]DropReason, 0, numDropReasons-1)
	for r := DropTTL; r < numDropReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}
