package checks

import (
	"context"
	"fmt"
	"net/textproto"
	"os"
)

// SMTPSpec holds the settings of an SMTP check (keepalived's SMTP_CHECK).
type SMTPSpec struct {
	// HeloName is the name sent with HELO; empty means the host name.
	HeloName string
}

// smtpChecker passes when the server greets with 220 and answers HELO with
// 250, as keepalived's SMTP_CHECK; it then says QUIT.
type smtpChecker struct {
	spec Spec
	helo string
}

func newSMTPChecker(spec Spec) (Checker, error) {
	helo := ""
	if spec.SMTP != nil {
		helo = spec.SMTP.HeloName
	}
	if helo == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		helo = h
	}
	return &smtpChecker{spec: spec, helo: helo}, nil
}

func (c *smtpChecker) Check(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx, c.spec.Timeout)
	defer cancel()
	conn, addr, err := dialTarget(ctx, &c.spec, c.spec.Target, "tcp", "connect")
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return smtpErr(ctx, addr, "greeting", c.spec, err)
	}
	id, err := tp.Cmd("HELO %s", c.helo)
	if err != nil {
		return smtpErr(ctx, addr, "HELO", c.spec, err)
	}
	tp.StartResponse(id)
	_, _, err = tp.ReadResponse(250)
	tp.EndResponse(id)
	if err != nil {
		return smtpErr(ctx, addr, "HELO", c.spec, err)
	}
	tp.Cmd("QUIT") // the verdict is in; the answer to QUIT does not matter
	return nil
}

// smtpErr words a failed SMTP exchange step.
func smtpErr(ctx context.Context, addr, step string, spec Spec, err error) error {
	if ctx.Err() != nil {
		return netErr(ctx, "smtp "+step, addr, spec.Timeout, err)
	}
	return fmt.Errorf("smtp %s %s: %w", step, addr, err)
}
