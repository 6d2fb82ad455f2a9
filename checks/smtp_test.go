package checks

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// smtpServer answers one SMTP exchange per connection on loopback with the
// given greeting and HELO reply, and sends what HELO said to helos.
func smtpServer(t *testing.T, greeting, heloReply string, helos chan<- string) netip.AddrPort {
	t.Helper()
	return serveTCP(t, "127.0.0.1", func(c net.Conn) {
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write([]byte(greeting + "\r\n"))
			r := bufio.NewReader(c)
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			select {
			case helos <- strings.TrimSpace(line):
			default:
			}
			c.Write([]byte(heloReply + "\r\n"))
			r.ReadString('\n') // QUIT
			c.Write([]byte("221 bye\r\n"))
		}()
	})
}

func TestSMTPCheck(t *testing.T) {
	tests := []struct {
		name, greeting, helo, wantErr string
	}{
		{"passes", "220 mx.example ESMTP", "250 hello", ""},
		{"multi-line greeting", "220-mx.example\r\n220 ESMTP", "250 hello", ""},
		{"refusing greeting", "554 no service", "250 hello", "smtp greeting"},
		{"HELO refused", "220 mx.example", "501 bad name", "smtp HELO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			helos := make(chan string, 1)
			target := smtpServer(t, tt.greeting, tt.helo, helos)
			c, err := New(Spec{Kind: KindSMTP, Target: target, Timeout: 2 * time.Second, SMTP: &SMTPSpec{HeloName: "director.example"}})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Check(context.Background())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Check = %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Check = %v, want an error with %q", err, tt.wantErr)
			}
			if tt.wantErr == "" {
				if got := <-helos; got != "HELO director.example" {
					t.Errorf("server got %q, want HELO director.example", got)
				}
			}
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		ln := listenTCP(t, "127.0.0.1")
		addr := addrPort(t, ln.Addr())
		ln.Close()
		c, _ := New(Spec{Kind: KindSMTP, Target: addr, Timeout: time.Second})
		if err := c.Check(context.Background()); err == nil {
			t.Error("Check passed with nothing listening")
		}
	})
	t.Run("silent server times out", func(t *testing.T) {
		ln := listenTCP(t, "127.0.0.1")
		c, _ := New(Spec{Kind: KindSMTP, Target: addrPort(t, ln.Addr()), Timeout: 200 * time.Millisecond})
		if err := c.Check(context.Background()); err == nil {
			t.Error("Check passed against a server that never greets")
		}
	})
}
