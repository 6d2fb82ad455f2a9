package lvstest

import (
	"errors"
	"sync"

	"github.com/havsd/havsd/lvs"
)

// Counts is how many calls of each kind reached a table.
type Counts struct {
	Dumps             int // Services calls
	Gets              int // Service calls
	NewService        int
	UpdateService     int
	DelService        int
	NewDestination    int
	UpdateDestination int
	DelDestination    int
}

// Writes returns the number of write calls, successful or not.
func (c Counts) Writes() int {
	return c.NewService + c.UpdateService + c.DelService +
		c.NewDestination + c.UpdateDestination + c.DelDestination
}

// Counting wraps a Table and counts the calls that pass through it; it is
// safe for concurrent use if the wrapped table is.
type Counting struct {
	lvs.Table
	mu sync.Mutex
	c  Counts
}

var _ lvs.Table = (*Counting)(nil)

// NewCounting returns a counting wrapper around t.
func NewCounting(t lvs.Table) *Counting { return &Counting{Table: t} }

// Counts returns the calls counted so far.
func (c *Counting) Counts() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c
}

// ResetCounts sets every count back to zero.
func (c *Counting) ResetCounts() {
	c.mu.Lock()
	c.c = Counts{}
	c.mu.Unlock()
}

func (c *Counting) inc(f func(*Counts)) {
	c.mu.Lock()
	f(&c.c)
	c.mu.Unlock()
}

// Services counts a dump and passes it on.
func (c *Counting) Services() ([]lvs.Service, error) {
	c.inc(func(n *Counts) { n.Dumps++ })
	return c.Table.Services()
}

// Service counts a get and passes it on.
func (c *Counting) Service(k lvs.ServiceKey) (lvs.Service, bool, error) {
	c.inc(func(n *Counts) { n.Gets++ })
	return c.Table.Service(k)
}

// NewService counts and passes on.
func (c *Counting) NewService(s lvs.Service) error {
	c.inc(func(n *Counts) { n.NewService++ })
	return c.Table.NewService(s)
}

// UpdateService counts and passes on.
func (c *Counting) UpdateService(s lvs.Service) error {
	c.inc(func(n *Counts) { n.UpdateService++ })
	return c.Table.UpdateService(s)
}

// DelService counts and passes on.
func (c *Counting) DelService(k lvs.ServiceKey) error {
	c.inc(func(n *Counts) { n.DelService++ })
	return c.Table.DelService(k)
}

// NewDestination counts and passes on.
func (c *Counting) NewDestination(k lvs.ServiceKey, d lvs.Destination) error {
	c.inc(func(n *Counts) { n.NewDestination++ })
	return c.Table.NewDestination(k, d)
}

// UpdateDestination counts and passes on.
func (c *Counting) UpdateDestination(k lvs.ServiceKey, d lvs.Destination) error {
	c.inc(func(n *Counts) { n.UpdateDestination++ })
	return c.Table.UpdateDestination(k, d)
}

// DelDestination counts and passes on.
func (c *Counting) DelDestination(k lvs.ServiceKey, d lvs.DestKey) error {
	c.inc(func(n *Counts) { n.DelDestination++ })
	return c.Table.DelDestination(k, d)
}

var _ lvs.BatchWriter = (*Counting)(nil)

// WriteOps counts each operation by kind and passes the batch on when the
// wrapped table takes batches, or applies the operations one by one.
func (c *Counting) WriteOps(ops []lvs.Op) []error {
	bw, ok := c.Table.(lvs.BatchWriter)
	if !ok {
		errs := make([]error, len(ops))
		for i, op := range ops {
			if err := op.Apply(c); err != nil {
				errs[i] = errors.Unwrap(err)
			}
		}
		return errs
	}
	c.inc(func(n *Counts) {
		for _, op := range ops {
			switch op.Kind {
			case lvs.OpAddService:
				n.NewService++
			case lvs.OpUpdateService:
				n.UpdateService++
			case lvs.OpDelService:
				n.DelService++
			case lvs.OpAddDest:
				n.NewDestination++
			case lvs.OpUpdateDest:
				n.UpdateDestination++
			case lvs.OpDelDest:
				n.DelDestination++
			}
		}
	})
	return bw.WriteOps(ops)
}
