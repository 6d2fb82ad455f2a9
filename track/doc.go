// Package track implements keepalived's VRRP trackers: vrrp_script (a
// command run every interval, with rise/fall), track_file (an integer in a
// file times a weight) and track_process (a count of matching processes
// against a quorum, with a delay).
//
// Each tracker has a pure state part (Hysteresis, ProcessState, FileValue)
// tested on fake times, and an effectful runner (script.go, file_linux.go,
// process_linux.go). A Set runs the trackers of a configuration and reports
// every change of a tracker's state; Effect turns the states an instance
// tracks into a priority delta and a fault flag with keepalived's weight
// rules:
//
//	weight > 0: add weight to the priority while the tracker is OK
//	weight < 0: add weight (lower the priority) while it has failed
//	weight = 0: the instance goes to FAULT while it has failed
//
// A track_file contributes value × weight instead; with weight 0 a
// non-zero value is a failure, and a product of -254 or less is a fault, as
// in keepalived.
package track
