package main

import "context"

// TEMPORARY stubs: replaced by the owner of this file.
func (c *cli) check(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: check: not implemented yet\n"))
	return exitFailure
}
func (c *cli) export(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: export: not implemented yet\n"))
	return exitFailure
}
func (c *cli) importRules(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: importRules: not implemented yet\n"))
	return exitFailure
}
