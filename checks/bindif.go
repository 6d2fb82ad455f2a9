package checks

import "fmt"

// bindIfError is a failure to bind a check's socket to its interface.
type bindIfError struct {
	ifname string
	err    error
}

func (e *bindIfError) Error() string {
	return fmt.Sprintf("binding to interface %s: %v", e.ifname, e.err)
}
func (e *bindIfError) Unwrap() error { return e.err }
