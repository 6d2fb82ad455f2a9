package checks

import "context"

// Weight is what a target's checks do to its real server's weight. A
// check may set the weight when it passes (a script check with Dynamic,
// keepalived's misc_dynamic: exit status 2-255 sets it to the status − 2);
// as in keepalived, each such check moves the weight from the configured
// one by what it sets minus the configured weight, so one check sets it
// outright and several add up. The zero value leaves the configured
// weight.
type Weight struct {
	Sets int // checks whose latest success set a weight
	Sum  int // the weights they set
}

// Apply returns the weight of a real server configured with weight c, not
// below 0 nor above limit.
func (w Weight) Apply(c, limit int) int {
	n := int64(c) + int64(w.Sum) - int64(w.Sets)*int64(c)
	return int(min(max(n, 0), int64(limit)))
}

// Weigher is implemented by a checker whose success may set the real
// server's weight. The scheduler calls CheckWeight instead of Check.
type Weigher interface {
	// CheckWeight probes once, as Check does; when it passes, set
	// reports that it asks for weight w.
	CheckWeight(ctx context.Context) (w int, set bool, err error)
}

// weightOf sums the weights the probes of t set.
func weightOf(t *target) Weight {
	var w Weight
	for _, p := range t.probes {
		if p.up && p.weightSet {
			w.Sets++
			w.Sum += p.weight
		}
	}
	return w
}
