package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ResponderCommand is the hidden havsd subcommand that serves as a lab
// responder: `havsd lab-responder NAME` runs Serve(ctx, NAME, ":80"). The lab
// starts responders this way so that it needs nothing but its own binary.
const ResponderCommand = "lab-responder"

// Serve runs an HTTP responder named name on addr until ctx ends. Every path
// answers 200 with the name, so a client sees which host served it.
func Serve(ctx context.Context, name, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("responder %s: %w", name, err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintln(w, name)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		<-ctx.Done()
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(c)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("responder %s: %w", name, err)
	}
	return nil
}
