package main

import "context"

// TEMPORARY stubs: replaced by the owner of this file.
func (c *cli) lab(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: lab: not implemented yet\n"))
	return exitFailure
}
func (c *cli) drill(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: drill: not implemented yet\n"))
	return exitFailure
}
