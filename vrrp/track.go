package vrrp

// SetTrackFault holds the instance in FAULT while reason is not empty: the
// daemon's trackers (a vrrp_script, track_file or track_process with weight
// 0) have failed, and reason says which. "" lets the instance out again. A
// sync group learns of it like of any other fault of the member.
func (i *Instance) SetTrackFault(reason string) {
	i.mu.Lock()
	i.trackFault = reason
	i.mu.Unlock()
	i.do(func(l *loop) {
		l.reportFault()
		l.step(Input{Kind: EvCheck})
	})
}

// trackFaultReason is the reason given to SetTrackFault.
func (i *Instance) trackFaultReason() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.trackFault
}
