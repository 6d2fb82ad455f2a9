package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/havsd/havsd/checks"
)

// digest prints the MD5 digest of a URL's body, the value an HTTP check's
// digest field expects (keepalived's genhash), and the status on stderr.
func (c *cli) digest(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("digest", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	timeout := fs.Duration("timeout", 5*time.Second, "deadline for the whole request")
	host := fs.String("H", "", "Host header (and TLS server name)")
	verify := fs.Bool("verify", false, "verify the server certificate (off by default, like the checks)")
	insecure := fs.Bool("k", true, "do not verify the server certificate (the default; -k=false is -verify)")
	maxBody := fs.Int64("max-body", checks.DefaultMaxBody, "largest body read, in bytes")
	anyStatus := fs.Bool("any-status", false, "print the digest whatever the status (by default a status outside 200-299 is an error)")
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "usage: havsd digest [-timeout 5s] [-H host] [-k] [-verify] [-any-status] URL")
		fmt.Fprintln(c.stderr, "Prints the MD5 digest of the body as keepalived's genhash does; the status code goes to stderr.")
		fmt.Fprintln(c.stderr, "A status outside 200-299 fails (the digest of an error page is rarely what a check should match) unless -any-status.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	raw := fs.Arg(0)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(c.stderr, "havsd: digest: %q is not an http:// or https:// URL\n", raw)
		return exitUsage
	}
	status, sum, err := checks.Digest(ctx, checks.DigestRequest{
		URL: raw, Host: *host, Verify: *verify || !*insecure, Timeout: *timeout, MaxBody: *maxBody,
	})
	if status != 0 {
		fmt.Fprintf(c.stderr, "HTTP status %d %s\n", status, http.StatusText(status))
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "havsd: digest: %v\n", err)
		return exitFailure
	}
	if (status < 200 || status > 299) && !*anyStatus {
		fmt.Fprintf(c.stderr, "havsd: digest: %s answered %d %s, not a 2xx page: no digest printed (-any-status prints it anyway, "+
			"for a check with status = [\"%d\"])\n", raw, status, http.StatusText(status), status)
		return exitFailure
	}
	fmt.Fprintln(c.stdout, sum)
	return exitOK
}
