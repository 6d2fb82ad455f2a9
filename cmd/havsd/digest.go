package main

import "context"

// TEMPORARY stubs: replaced by the owner of this file.
func (c *cli) digest(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: digest: not implemented yet\n"))
	return exitFailure
}
