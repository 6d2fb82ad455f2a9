package main

import (
	"fmt"
	"strings"

	"github.com/havsd/havsd/director"
)

// exitNoVRRP is havsd status's exit code when the daemon answers but none
// of its VRRP instances runs (every one is in FAULT or stopped): it holds
// no VIP and can take none over, so it is not reported healthy.
const exitNoVRRP = 4

// deadInstances returns the instances that run no election (FAULT or
// stopped) with why, and whether that is every instance. A configuration
// without VRRP instances is never all dead.
func deadInstances(st director.Status) (dead []string, all bool) {
	for _, in := range st.Instances {
		switch strings.ToLower(in.State) {
		case "fault", "stopped":
			d := in.Name + " " + strings.ToUpper(in.State)
			if in.FaultReason != "" {
				d += " (" + in.FaultReason + ")"
			}
			dead = append(dead, d)
		}
	}
	return dead, len(st.Instances) > 0 && len(dead) == len(st.Instances)
}

// noVRRPLine is the warning status and sd_notify give when every VRRP
// instance is dead, or "".
func noVRRPLine(st director.Status) string {
	dead, all := deadInstances(st)
	if !all {
		return ""
	}
	return fmt.Sprintf("NOT HEALTHY: no VRRP instance runs (%s)", strings.Join(dead, ", "))
}
