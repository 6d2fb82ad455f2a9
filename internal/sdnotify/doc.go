// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)): newline-separated VAR=value assignments sent as one
// datagram to the unix socket named by $NOTIFY_SOCKET. Outside systemd, or
// when the variable is unset, every call is a no-op.
package sdnotify
