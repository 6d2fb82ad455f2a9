package metrics

import "strings"

// faultClass maps an instance's free-text fault reason (status shows it
// whole) to one of a few fixed classes, so that havsd_vrrp_fault's reason
// label stays bounded whatever interface, tracker or error it names.
func faultClass(reason string) string {
	switch {
	case strings.HasPrefix(reason, "interface ") && strings.HasSuffix(reason, " does not exist"):
		return "interface_missing"
	case strings.HasPrefix(reason, "interface ") && strings.HasSuffix(reason, " is down"):
		return "interface_down"
	case strings.HasPrefix(reason, "tracked interface"):
		return "tracked_interface"
	case strings.Contains(reason, "sync group"):
		return "sync_group"
	case strings.HasPrefix(reason, "no primary "):
		return "no_address"
	case strings.HasSuffix(reason, " failed") || strings.Contains(reason, " failed ("):
		return "tracker"
	case strings.Contains(reason, "socket") || strings.Contains(reason, " advert"):
		return "socket"
	}
	return "other"
}
