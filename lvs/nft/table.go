package nft

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"

	"github.com/google/nftables"

	"github.com/havsd/havsd/lvs"
)

// DefaultTable is the name of our table in the inet family.
const DefaultTable = "havsd"

// Options configure Rules.
type Options struct {
	Table   string // table name in the inet family; "" means DefaultTable
	NetNSFd int    // network namespace to program (an open fd); 0 means the current one
}

// Rules programs havsd's own nftables table. It implements lvs.Filter. It is
// not safe for concurrent use; the reconciler calls it from one goroutine.
type Rules struct {
	opts Options
}

var _ lvs.Filter = (*Rules)(nil)

// New returns Rules for the table in opts. It does no I/O.
func New(opts Options) *Rules {
	if opts.Table == "" {
		opts.Table = DefaultTable
	}
	return &Rules{opts: opts}
}

func (r *Rules) conn() (*nftables.Conn, error) {
	var o []nftables.ConnOption
	if r.opts.NetNSFd != 0 {
		o = append(o, nftables.WithNetNSFd(r.opts.NetNSFd))
	}
	return nftables.New(o...)
}

func (r *Rules) table() *nftables.Table {
	return &nftables.Table{Name: r.opts.Table, Family: nftables.TableFamilyINet}
}

// chainDefs are our chains: classification at mangle priority before IPVS
// sees the packet, source NAT after routing.
func (r *Rules) chainDefs(t *nftables.Table) map[string]*nftables.Chain {
	return map[string]*nftables.Chain{
		ChainMark: {Name: ChainMark, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityMangle},
		ChainSNAT: {Name: ChainSNAT, Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource},
	}
}

// Apply makes our table hold exactly the given rules. When what the kernel
// holds already matches (same chains, same rules by their comments) it writes
// nothing; otherwise it deletes and recreates the table in one atomic batch.
// With no rules at all the table is removed.
func (r *Rules) Apply(_ context.Context, marks []lvs.MarkRule, snat []lvs.SNATRule) (bool, error) {
	want, err := specs(marks, snat)
	if err != nil {
		return false, err
	}
	c, err := r.conn()
	if err != nil {
		return false, fmt.Errorf("nftables: %w", err)
	}
	have, exists, err := r.current(c)
	if err != nil {
		return false, fmt.Errorf("reading nftables table inet %s: %w", r.opts.Table, err)
	}
	if exists && slices.Equal(have, fingerprint(want)) {
		return false, nil
	}
	if !exists && len(want) == 0 {
		return false, nil
	}
	t := r.table()
	if exists {
		c.DelTable(t)
	}
	if len(want) > 0 {
		if err := r.build(c, want); err != nil {
			return false, err
		}
	}
	if err := c.Flush(); err != nil {
		return false, fmt.Errorf("writing nftables table inet %s: %w", r.opts.Table, err)
	}
	return true, nil
}

// build queues the table, the chains the rules need and the rules.
func (r *Rules) build(c *nftables.Conn, want []ruleSpec) error {
	t := c.AddTable(r.table())
	defs := r.chainDefs(t)
	chains := map[string]*nftables.Chain{}
	for _, s := range want {
		if chains[s.chain] == nil {
			chains[s.chain] = c.AddChain(defs[s.chain])
		}
		ex, err := s.build(c, t)
		if err != nil {
			return fmt.Errorf("building rule %q: %w", s.comment, err)
		}
		c.AddRule(&nftables.Rule{Table: t, Chain: chains[s.chain], Exprs: ex, UserData: comment(s.comment)})
	}
	return nil
}

// fingerprint lists what identifies the desired table: each chain once, then
// "chain: comment" per rule.
func fingerprint(want []ruleSpec) []string {
	var out []string
	for _, s := range want {
		ch := "chain " + s.chain
		if !slices.Contains(out, ch) {
			out = append(out, ch)
		}
	}
	for _, s := range want {
		out = append(out, s.chain+": "+s.comment)
	}
	slices.Sort(out)
	return out
}

// current reads our table's fingerprint from the kernel. A chain whose type,
// hook or priority differs from ours is reported under another name so that
// it never matches.
func (r *Rules) current(c *nftables.Conn) ([]string, bool, error) {
	t, err := c.ListTableOfFamily(r.opts.Table, nftables.TableFamilyINet)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, err
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, true, err
	}
	defs := r.chainDefs(t)
	var out []string
	for _, ch := range chains {
		if ch.Table.Name != t.Name {
			continue
		}
		def, ok := defs[ch.Name]
		if !ok || ch.Type != def.Type || ch.Hooknum == nil || *ch.Hooknum != *def.Hooknum ||
			ch.Priority == nil || *ch.Priority != *def.Priority {
			out = append(out, "foreign chain "+ch.Name)
			continue
		}
		out = append(out, "chain "+ch.Name)
		rules, err := c.GetRules(t, ch)
		if err != nil {
			return nil, true, err
		}
		for _, rl := range rules {
			out = append(out, ch.Name+": "+commentOf(rl))
		}
	}
	slices.Sort(out)
	return out, true, nil
}

// Cleanup removes our table if it exists, for start-up after a crash or a
// clean shutdown. Nothing else is touched.
func (r *Rules) Cleanup() error {
	c, err := r.conn()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	_, exists, err := r.current(c)
	if err != nil {
		return fmt.Errorf("reading nftables table inet %s: %w", r.opts.Table, err)
	}
	if !exists {
		return nil
	}
	c.DelTable(r.table())
	if err := c.Flush(); err != nil {
		return fmt.Errorf("deleting nftables table inet %s: %w", r.opts.Table, err)
	}
	return nil
}

// Dump returns a description of our table as the kernel holds it: one line
// per chain and per rule (by comment), sorted; nil when the table is absent.
// It is meant for status output and tests.
func (r *Rules) Dump() ([]string, error) {
	c, err := r.conn()
	if err != nil {
		return nil, err
	}
	out, _, err := r.current(c)
	return out, err
}
