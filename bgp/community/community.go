// Package community reads and writes BGP communities (RFC 1997) as
// "ASN:VALUE". It has no dependencies, so the configuration checks
// communities without linking the BGP speaker.
package community

import (
	"fmt"
	"strconv"
	"strings"
)

// GracefulShutdown is RFC 8326's GRACEFUL_SHUTDOWN, 65535:0.
const GracefulShutdown uint32 = 0xffff0000

// Parse parses a community written "ASN:VALUE", each half 0..65535.
func Parse(s string) (uint32, error) {
	hi, lo, ok := strings.Cut(s, ":")
	if !ok {
		return 0, fmt.Errorf("community %q: want ASN:VALUE, two numbers 0-65535", s)
	}
	a, err1 := strconv.ParseUint(hi, 10, 16)
	b, err2 := strconv.ParseUint(lo, 10, 16)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("community %q: want ASN:VALUE, two numbers 0-65535", s)
	}
	return uint32(a)<<16 | uint32(b), nil
}

// Format writes a community as "ASN:VALUE".
func Format(c uint32) string {
	return fmt.Sprintf("%d:%d", c>>16, c&0xffff)
}
