package vrrp

// DropReason says why a received advert was discarded. The zero value,
// DropNone, means the advert was accepted.
type DropReason uint8

// Drop reasons, counted per instance. An address list that differs from
// ours is no drop reason: RFC 3768 §7.1 and RFC 5798 §7.1 only ask to log
// it, and dropping such adverts splits the pair during a rolling edit
// (Status.PeerVIPMismatch reports it instead).
const (
	DropNone      DropReason = iota // accepted: not a drop
	DropTTL                         // IPv4 TTL or IPv6 hop limit is not 255
	DropChecksum                    // checksum does not verify
	DropVersion                     // version is not the configured one
	DropType                        // type is not ADVERTISEMENT
	DropVRID                        // VRID of no instance here
	DropAuth                        // v2 authentication type or password mismatch
	DropOwn                         // our own advert looped back
	DropInterval                    // v2 advert interval differs from ours
	DropNotPeer                     // sender not among the unicast peers
	DropTruncated                   // shorter than its address count says
	DropLength                      // longer than its address count says
	DropFamily                      // address family differs from the instance's
	DropNoAddress                   // an advert with no address at all

	// dropSibling: the VRID of another instance of ours on the same
	// interface (Options.SiblingVRIDs); ignored, not counted.
	dropSibling DropReason = 255
)

var dropNames = [...]string{
	DropNone:      "none",
	DropTTL:       "ttl",
	DropChecksum:  "checksum",
	DropVersion:   "version",
	DropType:      "type",
	DropVRID:      "vrid",
	DropAuth:      "auth",
	DropOwn:       "own_packet",
	DropInterval:  "interval",
	DropNotPeer:   "not_peer",
	DropTruncated: "truncated",
	DropLength:    "length",
	DropFamily:    "family",
	DropNoAddress: "no_address",
}

// String returns the reason's metric label, e.g. "checksum".
func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return "unknown"
}
