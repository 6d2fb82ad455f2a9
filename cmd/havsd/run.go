package main

import "context"

// TEMPORARY stubs: replaced by the owner of this file.
func (c *cli) run(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: run: not implemented yet\n"))
	return exitFailure
}
func (c *cli) status(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: status: not implemented yet\n"))
	return exitFailure
}
func (c *cli) reload(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: reload: not implemented yet\n"))
	return exitFailure
}
func (c *cli) handover(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: handover: not implemented yet\n"))
	return exitFailure
}
func (c *cli) dump(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: dump: not implemented yet\n"))
	return exitFailure
}
