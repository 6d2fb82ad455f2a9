package main

import "context"

// TEMPORARY stubs: replaced by the owner of this file.
func (c *cli) realserver(ctx context.Context, args []string) int {
	c.stderr.Write([]byte("havsd: realserver: not implemented yet\n"))
	return exitFailure
}
