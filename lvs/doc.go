// Package lvs models the kernel's IPVS table (virtual services and their real
// servers), plans the difference between a desired and an observed table, and
// applies it through a narrow Table interface: netlink in production, an
// in-memory fake in tests.
package lvs
