// Package sysctl checks, and where allowed sets, the kernel settings a
// forwarding mode needs on the director: IP forwarding for NAT and full-NAT,
// IPVS connection tracking for full-NAT. Every check yields a finding for
// the daemon to log, whether or not anything was changed.
package sysctl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/havsd/havsd/lvs"
)

// Need is one kernel setting a configuration requires.
type Need struct {
	Key  string // dotted name, e.g. "net.ipv4.ip_forward"
	Want string // required value
	Why  string // the feature that needs it
}

// Needs returns the settings the services and SNAT rules require, sorted by
// key: forwarding for masq real servers (per family), and IPVS connection
// tracking plus IPv4 forwarding for full-NAT.
func Needs(services []lvs.Service, snat []lvs.SNATRule) []Need {
	m := map[string]Need{}
	for _, s := range services {
		for _, d := range s.Destinations {
			if d.Forward != lvs.Masq {
				continue
			}
			if lvs.FamilyOf(d.Addr) == lvs.IPv6 {
				m["net.ipv6.conf.all.forwarding"] = Need{"net.ipv6.conf.all.forwarding", "1", "NAT (masq) real servers over IPv6"}
			} else {
				m["net.ipv4.ip_forward"] = Need{"net.ipv4.ip_forward", "1", "NAT (masq) real servers"}
			}
		}
	}
	if len(snat) > 0 {
		m["net.ipv4.vs.conntrack"] = Need{"net.ipv4.vs.conntrack", "1", "full-NAT (masq plus SNAT needs IPVS connections in conntrack)"}
		if _, ok := m["net.ipv4.ip_forward"]; !ok {
			m["net.ipv4.ip_forward"] = Need{"net.ipv4.ip_forward", "1", "full-NAT"}
		}
	}
	out := make([]Need, 0, len(m))
	for _, n := range m {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Need) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Finding is the outcome of checking one Need.
type Finding struct {
	Need
	Have    string // value found before any change; empty if unreadable
	Changed bool   // the value was set to Want
	Err     error  // reading or writing failed
}

// OK reports whether the setting now has the required value.
func (f Finding) OK() bool { return f.Err == nil && (f.Changed || f.Have == f.Want) }

// String describes the finding on one line.
func (f Finding) String() string {
	switch {
	case f.Err != nil:
		return fmt.Sprintf("%s needs %s for %s: %v", f.Key, f.Want, f.Why, f.Err)
	case f.Changed:
		return fmt.Sprintf("%s was %s, set to %s for %s", f.Key, f.Have, f.Want, f.Why)
	case f.Have == f.Want:
		return fmt.Sprintf("%s is %s as %s needs", f.Key, f.Have, f.Why)
	}
	return fmt.Sprintf("%s is %s but %s needs %s (not changed: setting sysctls is not allowed by the configuration)", f.Key, f.Have, f.Why, f.Want)
}

// Check reads each needed setting under root ("" means /proc/sys) and, when
// set is true, writes the required value where it differs.
func Check(root string, needs []Need, set bool) []Finding {
	if root == "" {
		root = "/proc/sys"
	}
	out := make([]Finding, 0, len(needs))
	for _, n := range needs {
		f := Finding{Need: n}
		path := filepath.Join(root, strings.ReplaceAll(n.Key, ".", "/"))
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			f.Err = fmt.Errorf("%s does not exist (is the module loaded?)", path)
		case err != nil:
			f.Err = err
		default:
			// Multi-valued settings (sync_threshold reads "3\t50") compare
			// field by field.
			f.Have = strings.Join(strings.Fields(string(b)), " ")
			if set && f.Have != f.Want {
				if err := os.WriteFile(path, []byte(f.Want+"\n"), 0o644); err != nil {
					f.Err = fmt.Errorf("setting it: %w", err)
				} else {
					f.Changed = true
				}
			}
		}
		out = append(out, f)
	}
	return out
}
