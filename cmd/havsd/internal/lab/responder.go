package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// ResponderEnv, set in the environment of the havsd binary, makes it serve as
// a lab responder (an HTTP server on :80 answering with the value) instead of
// running a command. The lab starts responders this way so it needs nothing
// but its own binary.
const ResponderEnv = "HAVSD_LAB_RESPONDER"

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

// ServeFromEnv serves as a responder when ResponderEnv is set and reports
// whether it did; main programs call it first thing.
func ServeFromEnv(ctx context.Context) (bool, error) {
	name := os.Getenv(ResponderEnv)
	if name == "" {
		return false, nil
	}
	return true, Serve(ctx, name, ":80")
}
